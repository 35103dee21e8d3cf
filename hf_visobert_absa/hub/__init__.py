"""The Hub-bound code: exactly the modules a Hub model repository receives (export copies every `*.py` here
except this `__init__.py`). They import only the standard library, torch, public transformers names and
`from .sibling import X`, so `trust_remote_code=True` loads them without this package installed."""
