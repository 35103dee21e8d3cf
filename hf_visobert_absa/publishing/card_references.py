"""What the model card cites and says about known datasets and the training objective's options: the datasets'
descriptions and BibTeX, the papers every card cites, and one line per contrastive mode and pooling.

References:
    - Nguyen et al., "ViSoBERT", EMNLP 2023, arXiv:2310.11166 (cited only for a ViSoBERT encoder).
    - Lin et al., "Focal Loss", ICCV 2017, arXiv:1708.02002. - Khosla et al., "Supervised Contrastive Learning",
      NeurIPS 2020, arXiv:2004.11362. - Zhang & Wu, "Multi-Label Supervised Contrastive Learning", AAAI 2024.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetInfo:
    """What the card says about a training/evaluation dataset."""

    name: str
    description: str
    domain: str
    bibtex: str | None = None
    notes: tuple[str, ...] = ()


KNOWN_DATASETS: dict[str, DatasetInfo] = {
    "phone_reviews": DatasetInfo(
        name="Vietnamese smartphone reviews (11 aspects)",
        description=(
            "Vietnamese smartphone e-commerce reviews labelled per aspect (Battery, Camera, Performance, Display, "
            "Design, Packaging, Price, Shop_Service, Shipping, General, Others) as positive, negative, neutral or not "
            "mentioned, from the public repository "
            "[hjsad1994/BERT](https://github.com/hjsad1994/BERT) (no licence stated there)."
        ),
        domain="Vietnamese smartphone e-commerce reviews",
        notes=(
            "Part of the phone-review test set nearly duplicates training reviews (shared word 5-grams), so scores "
            "on it run higher than on independent data; compare with UIT-ViSFD.",
            "In the phone-review data `Others` is only ever neutral: the model never saw another sentiment for it.",
        ),
    ),
    "uit_visfd": DatasetInfo(
        name="UIT-ViSFD",
        description=(
            "UIT-ViSFD, the Vietnamese Smartphone Feedback Dataset (ten aspects plus OTHERS), Phan et al., KSEM "
            "2021; free for research use."
        ),
        domain="Vietnamese smartphone feedback",
        bibtex=(
            "@inproceedings{phan2021sa2sl,\n  title = {SA2SL: From Aspect-Based Sentiment Analysis to Social Listening "
            "System for Business Intelligence},\n  author = {Phan, Luong Luc and others},\n  booktitle = {Knowledge "
            "Science, Engineering and Management (KSEM)},\n  year = {2021}\n}"
        ),
    ),
}

#: Cited when the encoder is ViSoBERT.
VISOBERT_CITATION = (
    "@inproceedings{nguyen2023visobert,\n  title = {ViSoBERT: A Pre-Trained Language Model for Vietnamese Social "
    "Media Text Processing},\n  author = {Nguyen, Quoc-Nam and Phan, Thang Chau and Nguyen, Duc-Vu and Nguyen, Kiet "
    "Van},\n  booktitle = {Proceedings of EMNLP 2023},\n  year = {2023},\n  eprint = {2310.11166},\n  archivePrefix = {arXiv}\n}"
)

#: Cited in every card: the objective's papers.
CITATIONS = (
    "@inproceedings{lin2017focal,\n  title = {Focal Loss for Dense Object Detection},\n  author = {Lin, Tsung-Yi and "
    "Goyal, Priya and Girshick, Ross and He, Kaiming and Doll{\\'a}r, Piotr},\n  booktitle = {ICCV},\n  year = {2017},\n"
    "  eprint = {1708.02002},\n  archivePrefix = {arXiv}\n}",
    "@inproceedings{khosla2020supcon,\n  title = {Supervised Contrastive Learning},\n  author = {Khosla, Prannay and "
    "others},\n  booktitle = {NeurIPS},\n  year = {2020},\n  eprint = {2004.11362},\n  archivePrefix = {arXiv}\n}",
    "@inproceedings{zhang2024mulsupcon,\n  title = {Multi-Label Supervised Contrastive Learning},\n  author = {Zhang, "
    "Pingyue and Wu, Mengyue},\n  booktitle = {AAAI},\n  year = {2024}\n}",
)

#: Cited besides `CITATIONS` when the contrastive term runs over aspects (`contrastive_mode="aspect_sentiment"`).
ASPECT_CONTRAST_CITATION = (
    "@inproceedings{li2021scapt,\n  title = {Learning Implicit Sentiment in Aspect-based Sentiment Analysis with "
    "Supervised Contrastive Pre-Training},\n  author = {Li, Zhengyan and Zou, Yicheng and Zhang, Chong and Zhang, Qi "
    "and Wei, Zhongyu},\n  booktitle = {Proceedings of EMNLP 2021},\n  year = {2021},\n  eprint = {2111.02194},\n"
    "  archivePrefix = {arXiv}\n}"
)

CONTRASTIVE_NOTES = {
    "mulsupcon": "MulSupCon: each (aspect, sentiment) pair of a review is an anchor whose positives share that pair",
    "jaccard": "reviews weighted by the Jaccard overlap of their (aspect, sentiment) sets",
    "any": "reviews sharing at least one (aspect, sentiment) pair are positives",
    "exact": "reviews with identical (aspect, sentiment) sets are positives",
    "soft_agreement": "the original design's soft-weighted loss, kept for reproduction",
    "aspect_sentiment": "over aspects, not reviews: each mentioned aspect's own embedding is an anchor whose positives "
    "are the other mentioned aspects of the batch with the same sentiment",
}
POOLING_NOTES = {
    "cls": "first token",
    "mean": "masked mean of the tokens",
    "pooler": "dense + tanh over the first token",
    "aspect_query": "one learned query per aspect attends over the tokens; each aspect is scored from its own vector",
    "aspect_prompt": "one learned input vector per aspect after the first token; each aspect is scored from the "
    "last layer at its own position",
}


def pooling_note(config) -> str:
    """What the config's pooling does, in words; the number of heads of a multi-head aspect query."""
    note = POOLING_NOTES.get(config.pooling, config.pooling)
    heads = getattr(config, "aspect_query_heads", 1)
    if config.pooling == "aspect_query" and heads > 1:
        note = note.replace("one learned query per aspect", f"one learned query per aspect, split into {heads} heads,")
    return note


__all__ = [
    "CITATIONS",
    "CONTRASTIVE_NOTES",
    "KNOWN_DATASETS",
    "POOLING_NOTES",
    "VISOBERT_CITATION",
    "DatasetInfo",
    "pooling_note",
]
