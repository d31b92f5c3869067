"""The two classes, in the order of the model's output logits."""

HAM = "ham"
SPAM = "spam"
LABELS: tuple[str, str] = (HAM, SPAM)
LABEL2ID: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))
