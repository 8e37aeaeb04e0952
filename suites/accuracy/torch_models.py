"""PyTorch digit classifiers trained in the torch worker (imports torch). ``build_digits(params,
seed)`` trains ``params["arch"]`` (mlp, cnn, rnn) on the fixed digits split for a few epochs,
seeded, single-threaded (so the weights are the same run to run), and returns it with the test
images as the sample and the test labels as the expected values."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from conformance.cases import Built
from suites.accuracy.digits import CLASSES, batches, digits_split


class RowReader(nn.Module):
    """A GRU reading the image's 8 rows as a sequence of 8 features; the last state classifies."""

    def __init__(self, hidden: int = 32):
        super().__init__()
        self.gru = nn.GRU(8, hidden, batch_first=True)
        self.head = nn.Linear(hidden, CLASSES)

    def forward(self, image):
        out, _ = self.gru(image.flatten(1, 2))           # (batch, 1, 8, 8) -> (batch, 8 rows, 8)
        return self.head(out[:, -1])


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, CLASSES))


def _cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 4 * 4, CLASSES))


ARCHS = {"mlp": _mlp, "cnn": _cnn, "rnn": RowReader}


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, seed: int, lr: float = 1e-2) -> nn.Module:
    """Adam on cross-entropy, mini-batches of 64 in a seeded order."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        for idx in batches(len(y), 64, rng):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            optimizer.step()
    return model.eval()


def build_digits(params: dict, seed: int) -> Built:
    split = digits_split(params["data"])
    torch.manual_seed(seed)
    model = train(ARCHS[params["arch"]](), split.x_train, split.y_train, params.get("epochs", 10), seed)
    return Built(model=model, inputs=[split.x_test], input_names=["image"], output_names=["logits"],
                 expected=[split.y_test])


# --------------------------------------------------------------------------------------------- distillation
class TeacherStudent(nn.Module):
    """Both models side by side: the student's logits, then the teacher's (one export, both
    converted the same way, so the comparison of the two is checked on every target)."""

    def __init__(self, teacher: nn.Module, student: nn.Module):
        super().__init__()
        self.teacher, self.student = teacher, student

    def forward(self, image):
        return self.student(image), self.teacher(image)


def distill(student: nn.Module, teacher: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, seed: int,
            alpha: float = 0.5, beta: float = 0.5, lr: float = 1e-2) -> nn.Module:
    """The seed documents' loss: alpha * cross-entropy on the labels + beta * MSE on the teacher's logits."""
    rng = np.random.default_rng(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    with torch.no_grad():
        targets = teacher(xt)
    optimizer = torch.optim.Adam(student.parameters(), lr=lr)
    student.train()
    for _ in range(epochs):
        for idx in batches(len(y), 64, rng):
            optimizer.zero_grad()
            out = student(xt[idx])
            loss = alpha * nn.functional.cross_entropy(out, yt[idx]) + beta * nn.functional.mse_loss(out, targets[idx])
            loss.backward()
            optimizer.step()
    return student.eval()


def build_distilled(params: dict, seed: int) -> Built:
    """A CNN teacher trained on the labels, a small MLP student distilled from it; the model
    returns (student logits, teacher logits)."""
    split = digits_split(params["data"])
    torch.manual_seed(seed)
    epochs = params.get("epochs", 10)
    teacher = train(_cnn(), split.x_train, split.y_train, epochs, seed)
    student = nn.Sequential(nn.Flatten(), nn.Linear(64, params.get("hidden", 16)), nn.ReLU(),
                            nn.Linear(params.get("hidden", 16), CLASSES))
    distill(student, teacher, split.x_train, split.y_train, epochs, seed + 1)
    return Built(model=TeacherStudent(teacher, student), inputs=[split.x_test], input_names=["image"],
                 output_names=["logits", "teacher_logits"], expected=[split.y_test])
