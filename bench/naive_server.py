"""The naive way to serve the model, as a baseline for `bench.serving`: what a project typically writes first.

A module-level `transformers.pipeline`, a plain synchronous endpoint (so FastAPI runs it on its default thread
pool), the pipeline called on each request's texts as they come: no batching across requests, torch's default
threads, no request log.

    MODEL_DIR=weights/spam-minilm python -m bench.naive_server --port 8001
"""

from __future__ import annotations

import argparse
import os

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from transformers import pipeline

MODEL_DIR = os.environ.get("MODEL_DIR", "weights/spam-minilm")

classifier = pipeline(
    "text-classification", model=MODEL_DIR, tokenizer=MODEL_DIR, device=-1, truncation=True, max_length=256
)

app = FastAPI(title="Spam classifier (naive baseline)")


class PredictRequest(BaseModel):
    text: list[str]


class TextPrediction(BaseModel):
    label: str
    spam_probability: float


class PredictResponse(BaseModel):
    predictions: list[TextPrediction]


@app.post("/predict")
def predict(body: PredictRequest) -> PredictResponse:
    results = classifier(body.text, top_k=None)  # every label's score per text, so P(spam) can be read off
    predictions = []
    for scores in results:
        by_label = {s["label"]: s["score"] for s in scores}
        best = max(scores, key=lambda s: s["score"])["label"]
        predictions.append(TextPrediction(label=best, spam_probability=by_label["spam"]))
    return PredictResponse(predictions=predictions)


@app.get("/ready")
def ready() -> dict[str, str]:
    return {"status": "ready"}  # the model was loaded at import, before the server started listening


def main() -> None:
    parser = argparse.ArgumentParser(description="Naive baseline server for the serving benchmark.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
