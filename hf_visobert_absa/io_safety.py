"""Writing user-visible files safely: never over an input, never half-written.

Every file the CLI writes for a user (predictions, metrics JSON, reports, plots) goes through [`atomic_write`]
or [`atomic_path`]: the content is written to a temporary file beside the target and renamed into place only
when it is complete (`os.replace` is atomic on POSIX and Windows within one folder). A failure at any point —
a bad row far down an input, an exception, Ctrl-C — leaves the target as it was (absent, or the previous
version) and removes the temporary file.

Before anything is opened, [`check_output_file`] refuses an output that resolves to one of the inputs (a
symlink or a hard link included), a folder, a path in a missing folder or in a folder that is not writable;
[`check_output_dir`] does the same for an output folder. Both raise [`AbsaInputError`], which the CLI turns
into one line and exit code 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import AbsaInputError


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_output_file(
    output: str | os.PathLike, inputs: Iterable[str | os.PathLike | None] = (), flag: str = "--output"
) -> Path:
    r"""Check that `output` can be written as a new file without touching any input; nothing is opened.

    Args:
        output (`str` or `PathLike`): the file to write.
        inputs (iterable of `str` or `PathLike`, *optional*): files (or folders) the command reads; `None`
            entries are ignored. The output may not resolve to any of them, nor lie inside a folder among them.
        flag (`str`, *optional*, defaults to `"--output"`): the option named in messages.

    Returns:
        `Path`: the output path.

    Raises:
        `AbsaInputError`: the output resolves to an input, is a folder, lies in a folder that does not exist or is
        not writable.

    Example:

    ```python
    >>> check_output_file("labelled.csv", inputs=["reviews.csv"])
    PosixPath('labelled.csv')
    ```
    """
    path = Path(output)
    for source in inputs:
        if source is None or str(source) == "-":
            continue
        source = Path(source)
        if _same_file(path, source) or (source.is_dir() and path.resolve().is_relative_to(source.resolve())):
            raise AbsaInputError(
                f"`{flag}` {output} is the input {source}: writing it would destroy the input. Nothing was written; "
                "choose another output file."
            )
    if path.is_dir():
        raise AbsaInputError(f"`{flag}` {output} is a folder; pass a file path such as {path / 'output.jsonl'}.")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        state = "is a file" if parent.exists() else "does not exist"
        raise AbsaInputError(
            f"`{flag}` {output}: the folder {parent} {state}. Create the folder first (`mkdir -p {parent}`) or "
            "choose another output path. Nothing was written."
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise AbsaInputError(f"`{flag}` {output}: the folder {parent} is not writable. Choose another output path.")
    if path.exists() and not os.access(path, os.W_OK):
        raise AbsaInputError(f"`{flag}` {output} exists and is read-only. Choose another output path.")
    return path


def check_output_dir(
    output_dir: str | os.PathLike, inputs: Iterable[str | os.PathLike | None] = (), flag: str = "--output_dir"
) -> Path:
    r"""Create `output_dir` if needed and check that it is a writable folder that holds none of the inputs.

    Args:
        output_dir (`str` or `PathLike`): the folder to write into.
        inputs (iterable of `str` or `PathLike`, *optional*): files or folders the command reads.
        flag (`str`, *optional*, defaults to `"--output_dir"`): the option named in messages.

    Returns:
        `Path`: the folder.

    Raises:
        `AbsaInputError`: the path is a file, cannot be created, is not writable, or is one of the inputs.
    """
    path = Path(output_dir)
    for source in inputs:
        if source is not None and Path(source).exists() and _same_file(path, Path(source)):
            raise AbsaInputError(f"`{flag}` {output_dir} is the input {source}; choose another folder.")
    if path.exists() and not path.is_dir():
        raise AbsaInputError(f"`{flag}` {output_dir} is a file, not a folder. Pass a folder path (it is created).")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AbsaInputError(
            f"`{flag}` {output_dir} cannot be created ({error.strerror or error}). Pass a folder you can write to."
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise AbsaInputError(f"`{flag}` {output_dir} is not writable. Pass a folder you can write to.")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    r"""Yield a temporary path beside `path`; rename it to `path` when the block ends without an exception.

    Use it for writers that take a path (e.g. `figure.savefig(tmp, format="png")`). On an exception (or Ctrl-C)
    the temporary file is removed and `path` is left as it was.

    Example:

    ```python
    >>> with atomic_path("plot.png") as tmp:
    ...     figure.savefig(tmp, format="png")
    ```
    """
    target = Path(path)
    handle, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent if str(target.parent) else "."
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        _match_default_permissions(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None
) -> Iterator[IO[Any]]:
    r"""Open a temporary file beside `path` for writing; it replaces `path` only when the block succeeds.

    Args:
        path (`str` or `PathLike`): the final file.
        mode (`str`, *optional*, defaults to `"w"`): `"w"` for text, `"wb"` for bytes.
        encoding (`str`, *optional*, defaults to `"utf-8"`): text encoding (ignored for `"wb"`).
        newline (`str`, *optional*): as for `open` (pass `""` for the `csv` module).

    Example:

    ```python
    >>> with atomic_write("labelled.jsonl") as out:
    ...     out.write('{"text": "Pin trâu"}\n')
    ```
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"`mode` got {mode!r}; allowed: 'w' or 'wb'.")
    with atomic_path(path) as temporary:
        kwargs = {} if mode == "wb" else {"encoding": encoding, "newline": newline}
        with open(temporary, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically (see [`atomic_write`])."""
    with atomic_write(path) as handle:
        handle.write(text)


def write_json_atomic(path: str | os.PathLike, document: Any, **kwargs: Any) -> None:
    """Write `document` as indented JSON to `path` atomically; `kwargs` go to `json.dumps`."""
    kwargs.setdefault("indent", 2)
    write_text_atomic(path, json.dumps(document, **kwargs) + "\n")


def _match_default_permissions(path: Path) -> None:
    """`mkstemp` creates 0600 files; give the result the permissions `open` would have (0666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o666 & ~umask)


__all__ = [
    "atomic_path",
    "atomic_write",
    "check_output_dir",
    "check_output_file",
    "write_json_atomic",
    "write_text_atomic",
]
