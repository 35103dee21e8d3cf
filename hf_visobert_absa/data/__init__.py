"""Reading review files into `datasets` (4 formats, strict checks, a `DatasetReport`), label schemes, and the
ViSoBERT-safe tokenizer loader. Import each name from the module that defines it (`load_absa_dataset` in
`loading.py`, `load_tokenizer` and `tokenize_dataset` in `tokenization.py`)."""
