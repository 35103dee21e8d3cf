"""Shared benchmark machinery: interleaved timing with medians, machine and library facts, peak RSS, JSON.

Every benchmark writes one JSON document with the same top-level keys (see [`result_document`]):
`benchmark`, `title`, `command`, `created_utc`, `settings`, `inputs`, `machine`, `versions`, `results`
(every repetition in seconds plus its median), `derived` (ratios, speed-ups), `memory` (peak RSS) and
`notes`. Targets are never checked here: `targets.check_targets` reads these files afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from ..io_safety import write_json_atomic

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
#: Precisions a benchmark runs in: fp32, or bf16 autocast around the forward (as `Trainer(bf16=True)`).
DTYPES: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16}
_VERSIONED = ("torch", "transformers", "accelerate", "tokenizers", "numpy", "matplotlib", "hf-visobert-absa")


# ----------------------------------------------------------------------------------------------- settings
@dataclass
class BenchSettings:
    """How a benchmark run is configured (written into every JSON as `settings`).

    Args:
        encoder (`str`): "tiny", "visobert" or a path to an encoder config.json.
        batch_size (`int`), seq_len (`int`): the training batch shape.
        reps (`int`): timed repetitions (>= 5 for reported numbers); warmup (`int`): untimed first rounds.
        input_sets (`int`): different batches rotated across repetitions.
        device (`str`), dtype (`str`): "cpu"/"cuda", "fp32"/"bf16" (autocast, as `Trainer(bf16=True)`).
        threads (`int`, *optional*): torch intra-op threads (None = torch's default).
        seed (`int`): weights, batches and labels.
        quick (`bool`): whether this is the `--quick` smoke run (tiny encoder, few repetitions).
        loss_batch_sizes (`list[int]`): batch sizes of benchmark 3.
        reviews (`int`), inference_batch_size (`int`), inference_sets (`int`): benchmark 4 uses the first
            `reviews` reviews of `data`, split into `inference_sets` sets rotated across repetitions.
        data (`str`, *optional*): the review file of benchmark 4 (CSV with a `data` or `text` column).
        tokenizer (`str`, *optional*): the tokenizer folder of benchmark 4.
        inference_variants (`list[str]`, *optional*): the variants of benchmark 4 to run (default: all).
        int8_model (`str`, *optional*), int8_data (`str`, *optional*), label_aliases (`dict`, *optional*),
            int8_reps (`int`): the trained model, labelled test file, label aliases and interleaved rounds of the
            `int8` benchmark's accuracy part; int8_speed (`bool`): whether it runs its speed part.
        compile (`bool`): the training benchmarks run every variant's step through `torch.compile(model)`.
    """

    encoder: str = "visobert"
    batch_size: int = 16
    seq_len: int = 64
    reps: int = 7
    warmup: int = 2
    input_sets: int = 4
    device: str = "cpu"
    dtype: str = "fp32"
    threads: int | None = None
    seed: int = 0
    quick: bool = False
    loss_batch_sizes: list[int] = field(default_factory=lambda: [16, 32, 64, 128])
    reviews: int = 1000
    inference_batch_size: int = 32
    inference_sets: int = 5
    data: str | None = None
    tokenizer: str | None = None
    inference_variants: list[str] | None = None
    int8_model: str | None = None
    int8_data: str | None = None
    label_aliases: dict | None = None
    int8_reps: int = 3
    int8_speed: bool = True
    compile: bool = False

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["torch_threads_in_use"] = torch.get_num_threads()
        return out


# ----------------------------------------------------------------------------------------------- timing
def synchronizer(device: torch.device | str) -> Callable[[], None]:
    """A function that waits for the device's queued work (a no-op on CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def autocast(device: torch.device | str, dtype: str) -> contextlib.AbstractContextManager:
    """`torch.autocast` to bfloat16 on `device` for `dtype="bf16"`; a null context for "fp32"."""
    if dtype not in DTYPES:
        raise ValueError(f"`dtype` got {dtype!r}; allowed: {', '.join(map(repr, DTYPES))}.")
    target = DTYPES[dtype]
    if target is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=target)


def summarize(seconds: Sequence[float]) -> dict[str, Any]:
    """Every repetition plus median, mean, min, max, standard deviation and interquartile range."""
    values = [float(v) for v in seconds]
    quartiles = statistics.quantiles(values, n=4) if len(values) >= 2 else [values[0]] * 3
    return {
        "seconds": values,
        "median_s": statistics.median(values),
        "mean_s": statistics.fmean(values),
        "min_s": min(values),
        "max_s": max(values),
        "stdev_s": statistics.stdev(values) if len(values) >= 2 else 0.0,
        "iqr_s": quartiles[2] - quartiles[0],
        "reps": len(values),
    }


def measure_interleaved(
    variants: dict[str, Callable[[int], Any]],
    *,
    reps: int,
    warmup: int,
    sync: Callable[[], None] = lambda: None,
    inner: dict[str, int] | None = None,
) -> dict[str, list[float]]:
    """Time several variants in interleaved rounds so that machine-load drift hits all of them alike.

    Round `r` runs every variant once, in an order rotated by `r`. Each variant receives the repetition
    index (warm-up rounds count from 0 too), which it uses to pick one of its rotated input sets.

    Args:
        variants (`dict[str, Callable[[int], Any]]`): name -> one execution of the work under test.
        reps (`int`): timed rounds (>= 1).
        warmup (`int`): untimed rounds first.
        sync (`Callable`): waits for the device before and after each timed call.
        inner (`dict[str, int]`, *optional*): calls per timed repetition for a variant whose single call is
            too short to time alone; the recorded value is the mean time per call.

    Returns:
        `dict[str, list[float]]`: seconds per call, one value per timed round.
    """
    if reps < 1:
        raise ValueError(f"`reps` got {reps!r}; allowed: an integer >= 1.")
    names = list(variants)
    inner = inner or {}
    timings: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(warmup + reps):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            count = inner.get(name, 1)
            sync()
            start = time.perf_counter()
            for call in range(count):
                variants[name](round_index * count + call)
            sync()
            elapsed = (time.perf_counter() - start) / count
            if round_index >= warmup:
                timings[name].append(elapsed)
    return timings


def calibrate_inner(fn: Callable[[int], Any], *, target_s: float = 0.02, limit: int = 1000) -> int:
    """How many calls of `fn` make one repetition last at least `target_s` (timeit's autorange idea)."""
    count = 1
    while True:
        start = time.perf_counter()
        for call in range(count):
            fn(call)
        elapsed = time.perf_counter() - start
        if elapsed >= target_s or count >= limit:
            return count
        count = min(limit, max(count * 2, int(count * target_s / max(elapsed, 1e-9)) + 1))


# ----------------------------------------------------------------------------------------------- memory
class PeakRSS:
    """Peak resident memory of this process over a section, in MiB.

    On Linux the kernel's high-water mark (`VmHWM`) is reset by writing 5 to `/proc/self/clear_refs`, so the
    peak covers exactly the section. Where that is impossible the process-lifetime peak (`ru_maxrss`) is
    reported and `method` says so.

    Example:

    ```python
    >>> with PeakRSS() as peak:
    ...     run_one_step()
    >>> peak.result()["peak_rss_mib"]
    ```
    """

    def __init__(self) -> None:
        self.method = "VmHWM after clear_refs"
        self.start_rss_mib: float | None = None
        self.peak_rss_mib: float | None = None

    def __enter__(self) -> PeakRSS:
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            self.method = "ru_maxrss (process-lifetime peak; the high-water mark could not be reset)"
        self.start_rss_mib = _status_mib("VmRSS")  # read after the reset: the peak can only be >= this
        return self

    def __exit__(self, *exc: object) -> None:
        peak = _status_mib("VmHWM") if self.method.startswith("VmHWM") else None
        if peak is None:
            self.method = "ru_maxrss (process-lifetime peak; the high-water mark could not be reset)"
            scale = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
        # the kernel's RSS counters are batched per thread, so VmHWM can read a few hundred kB below the RSS read
        # at the start (seen: 531.7 vs 532.0 MiB); the section's peak is at least where it started
        self.peak_rss_mib = max(peak, self.start_rss_mib or 0.0)

    def result(self) -> dict[str, Any]:
        return {"rss_before_mib": self.start_rss_mib, "peak_rss_mib": self.peak_rss_mib, "method": self.method}


def _status_mib(key: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0  # kB -> MiB
    except OSError:
        return None
    return None


def peak_memory(fn: Callable[[], Any], device: torch.device | str) -> dict[str, Any]:
    """Run `fn` once and return its peak RSS (and peak CUDA memory on a GPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    with PeakRSS() as peak:
        fn()
        synchronizer(device)()
    out = peak.result()
    if device.type == "cuda":
        out["peak_cuda_allocated_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


# ----------------------------------------------------------------------------------------------- facts
def machine_info(device: torch.device | str = "cpu") -> dict[str, Any]:
    """CPU model, cores, torch threads, memory, load average, and the GPU when one is used."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "memory_total_gib": _meminfo_gib("MemTotal"),
        "load_average_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "device": str(device),
    }
    if torch.device(device).type == "cuda" and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(torch.device(device))
        info["gpu"] = {"name": props.name, "memory_gib": props.total_memory / 2**30, "cuda": torch.version.cuda}
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _meminfo_gib(key: str) -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 2**20
    except OSError:
        return None
    return None


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries the timings depend on."""
    versions: dict[str, str | None] = {}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["torch_mkldnn"] = str(torch.backends.mkldnn.is_available())
    return versions


# ----------------------------------------------------------------------------------------------- output
def result_document(
    benchmark: str,
    title: str,
    *,
    settings: dict[str, Any],
    inputs: dict[str, Any],
    results: dict[str, Any],
    derived: dict[str, Any],
    memory: dict[str, Any],
    notes: list[str] | None = None,
    machine: dict[str, Any] | None = None,
    command: list[str] | None = None,
) -> dict[str, Any]:
    """Assemble the JSON document every benchmark writes (the same keys for all)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "benchmark": benchmark,
        "title": title,
        "command": command if command is not None else current_command(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": settings,
        "inputs": inputs,
        "machine": machine if machine is not None else machine_info(settings.get("device", "cpu")),
        "versions": library_versions(),
        "results": results,
        "derived": derived,
        "memory": memory,
        "notes": notes or [],
    }


def current_command() -> list[str]:
    """The command line of this process, as run (for the `command` field)."""
    return [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else []


def write_json(path: Path | str, document: dict[str, Any]) -> Path:
    """Write `document` as indented JSON (creating the folder); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, document, ensure_ascii=False)
    logger.info("wrote %s", path)
    return path
