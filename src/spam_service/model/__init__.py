"""The model: labels, text normalisation, the exported artifact, tokenization, engines, the classifier and
the micro-batcher that shares forward passes between concurrent requests."""
