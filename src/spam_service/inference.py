"""Runs the classifier off the event loop, on one dedicated thread.

One thread because torch already spreads a forward pass over `TORCH_THREADS` cores; two passes at once would
only fight over them. Requests queue on the executor in arrival order.
"""

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from spam_service.classifier import Prediction, SpamClassifier


class InferenceWorker:
    def __init__(self, classifier: SpamClassifier) -> None:
        self.classifier = classifier
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")

    async def predict(self, texts: Sequence[str]) -> list[Prediction]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.classifier.predict, texts)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
