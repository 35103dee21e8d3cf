"""One rule for running a block with a given number of torch intra-op threads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with `count` intra-op threads (unchanged when `None` or 0), restoring the previous value after.

    Example:

    ```python
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    ```
    """
    if not count:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


__all__ = ["torch_threads"]
