"""PyTorch reference definitions of the two KneeForce networks and their checkpoint format.

The Swift engine must reproduce these modules exactly: the fixtures, the throughput baseline and
the checkpoint round trips all build their models here, so this file is the single definition of
what "the same model" means (parameter names, shapes, layer order and the causal cut of the TCN).

Checkpoint format (safetensors): exactly the ``state_dict()`` tensors as F32, plus one metadata key
``kneeforce`` whose value is the model configuration serialised as a JSON string.
"""

from __future__ import annotations

import json
from typing import Any

import torch
from torch import nn

METADATA_KEY = "kneeforce"
MODEL_KINDS = ("bilstm_mlp", "tcn")


class BiLSTMMLP(nn.Module):
    """Bidirectional LSTM followed by a per-time-step MLP: [B, T, n_in] -> [B, T, n_out]."""

    def __init__(
        self,
        inputs: int,
        outputs: int,
        hidden: int,
        layers: int,
        mlp: tuple[int, int] | list[int],
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if len(mlp) != 2:
            raise ValueError(f"mlp must have two widths, got {list(mlp)}")
        self.config = {
            "model": "bilstm_mlp",
            "inputs": int(inputs),
            "outputs": int(outputs),
            "hidden": int(hidden),
            "layers": int(layers),
            "mlp": [int(mlp[0]), int(mlp[1])],
            "dropout": float(dropout),
        }
        self.lstm = nn.LSTM(inputs, hidden, num_layers=layers, bidirectional=True, batch_first=True)
        self.mlp = nn.Sequential(
            nn.Linear(2 * hidden, mlp[0]),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(mlp[0], mlp[1]),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(mlp[1], outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.lstm(x)[0])


class TemporalBlock(nn.Module):
    """locuslab-style residual block of two dilated causal convolutions, without weight norm.

    The convolutions pad (k-1)*d on both sides and the last (k-1)*d outputs are cut, which makes
    every output depend only on the current and earlier time steps.  Only conv1, conv2 and the
    optional downsample hold parameters, so the state_dict names stay exactly
    ``conv1.*``, ``conv2.*`` and ``downsample.*``.
    """

    def __init__(
        self, c_in: int, channels: int, kernel_size: int, dilation: int, dropout: float
    ) -> None:
        super().__init__()
        self.cut = (kernel_size - 1) * dilation
        self.conv1 = nn.Conv1d(c_in, channels, kernel_size, dilation=dilation, padding=self.cut)
        self.relu1 = nn.ReLU()
        self.dropout1 = nn.Dropout(dropout)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, dilation=dilation, padding=self.cut)
        self.relu2 = nn.ReLU()
        self.dropout2 = nn.Dropout(dropout)
        # A plain None attribute (not a module) keeps "downsample.*" out of the state_dict.
        self.downsample = nn.Conv1d(c_in, channels, 1) if c_in != channels else None
        self.relu = nn.ReLU()

    def _chomp(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, : -self.cut].contiguous() if self.cut > 0 else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.dropout1(self.relu1(self._chomp(self.conv1(x))))
        out = self.dropout2(self.relu2(self._chomp(self.conv2(out))))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


class TCN(nn.Module):
    """Stack of temporal blocks with dilations 1, 2, 4, ... and a per-step linear head."""

    def __init__(
        self,
        inputs: int,
        outputs: int,
        channels: int,
        levels: int,
        kernel_size: int,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.config = {
            "model": "tcn",
            "inputs": int(inputs),
            "outputs": int(outputs),
            "channels": int(channels),
            "levels": int(levels),
            "kernel_size": int(kernel_size),
            "dropout": float(dropout),
        }
        blocks = [
            TemporalBlock(inputs if i == 0 else channels, channels, kernel_size, 2**i, dropout)
            for i in range(levels)
        ]
        self.tcn = nn.Sequential(*blocks)
        self.head = nn.Linear(channels, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.tcn(x.transpose(1, 2)).transpose(1, 2)
        return self.head(features)


def make_config(
    model: str,
    inputs: int,
    outputs: int,
    dropout: float,
    hidden: int = 64,
    layers: int = 2,
    mlp: list[int] | tuple[int, int] = (128, 64),
    channels: int = 64,
    levels: int = 4,
    kernel_size: int = 3,
) -> dict[str, Any]:
    """The checkpoint metadata object for one architecture (only that model's fields)."""
    if model == "bilstm_mlp":
        return {
            "model": model,
            "inputs": inputs,
            "outputs": outputs,
            "hidden": hidden,
            "layers": layers,
            "mlp": list(mlp),
            "dropout": dropout,
        }
    if model == "tcn":
        return {
            "model": model,
            "inputs": inputs,
            "outputs": outputs,
            "channels": channels,
            "levels": levels,
            "kernel_size": kernel_size,
            "dropout": dropout,
        }
    raise ValueError(f"unknown model {model!r} (expected one of {MODEL_KINDS})")


def build_model(config: dict[str, Any]) -> nn.Module:
    """Builds a model from a checkpoint configuration (the ``kneeforce`` metadata object)."""
    kind = config.get("model")
    dropout = float(config.get("dropout", 0.0))
    if kind == "bilstm_mlp":
        return BiLSTMMLP(
            config["inputs"],
            config["outputs"],
            config["hidden"],
            config["layers"],
            config["mlp"],
            dropout,
        )
    if kind == "tcn":
        return TCN(
            config["inputs"],
            config["outputs"],
            config["channels"],
            config["levels"],
            config["kernel_size"],
            dropout,
        )
    raise ValueError(f"unknown model kind {kind!r}; expected one of {MODEL_KINDS}")


def config_json(config: dict[str, Any]) -> str:
    """Compact JSON so the metadata string is the same bytes on every run."""
    return json.dumps(config, separators=(",", ":"))


def checkpoint_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state_dict as contiguous F32 CPU tensors, which is all a checkpoint may hold."""
    return {
        name: tensor.detach().to(device="cpu", dtype=torch.float32).contiguous().clone()
        for name, tensor in model.state_dict().items()
    }


def save_checkpoint(model: nn.Module, path: str) -> None:
    from safetensors.torch import save_file

    save_file(checkpoint_tensors(model), path, metadata={METADATA_KEY: config_json(model.config)})


def load_checkpoint(path: str) -> nn.Module:
    """Loads a checkpoint strictly: every tensor must be F32 and the names must match exactly."""
    from safetensors import safe_open

    with safe_open(path, framework="pt") as handle:
        metadata = handle.metadata() or {}
        if METADATA_KEY not in metadata:
            raise ValueError(f"{path}: no '{METADATA_KEY}' metadata key")
        config = json.loads(metadata[METADATA_KEY])
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    for name, tensor in tensors.items():
        if tensor.dtype != torch.float32:
            raise ValueError(f"{path}: tensor '{name}' has dtype {tensor.dtype}, expected float32")
    model = build_model(config)
    model.load_state_dict(tensors, strict=True)
    return model
