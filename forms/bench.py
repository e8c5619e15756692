"""Benchmark: validate varied household submissions with the compiled default form.

In the same run it times a reference, a minimal hand-written check of the same dicts
(type and bound comparisons per field), so the figures can be compared across machines.
`ratio` is reference_per_s / submissions_per_s: how many times slower the engine is than
the bare minimum it could possibly do.
"""
from __future__ import annotations

import random
import time
from typing import Any

from .compiled import compile_form
from .default import household_digital

COUNT_BOUNDS = (("members_15plus", "members"), ("adults", "members_15plus"), ("working_age", "members_15plus"),
                ("adults_smartphone", "adults"), ("members_15plus_bank", "members_15plus"),
                ("adults_digital_signature", "adults"), ("working_age_digital_skills", "working_age"),
                ("members_online", "members"), ("members_online_protected", "members_online"),
                ("adults_online_public_services", "adults"), ("adults_telehealth", "adults"),
                ("members_ehr", "members"))


def household(rng: Any) -> Any:
    """One realistic household answer dict (sometimes a refusal, sometimes with a mistake)."""
    if rng.random() < 0.05:
        return {"consent": "no"}
    members = rng.randint(1, 9)
    counts = {"members": members}
    counts["members_15plus"] = rng.randint(1, members)
    counts["adults"] = rng.randint(0, counts["members_15plus"])
    counts["working_age"] = rng.randint(0, counts["members_15plus"])
    for field, bound in COUNT_BOUNDS[3:]:
        counts[field] = rng.randint(0, counts[bound])
    answers = {"consent": "yes", "household_number": str(rng.randint(1, 400)),
               "head_name": rng.choice(["Rơ Mah Hyao", "Nguyễn Văn An", "Ksor Thị Blơi", "Siu H'Nga"]),
               "fibre_available": rng.choice(["yes", "yes", "no"]), **counts}
    if rng.random() < 0.6:
        answers["phone"] = "09" + "".join(rng.choice("0123456789") for _ in range(8))
    if rng.random() < 0.5:
        answers["location"] = f"{rng.uniform(13, 14.6):.6f} {rng.uniform(107.5, 108.9):.6f} 700 5"
    if answers["fibre_available"] == "yes":
        answers["fibre_subscribed"] = rng.choice(["yes", "no"])
    if rng.random() < 0.1:
        answers["adults_smartphone"] = answers["adults"] + 1
    if rng.random() < 0.05:
        answers["members"] = str(members)
    return answers


def households(n: int, seed: int = 1331) -> list:
    """`n` varied households, reproducibly."""
    rng = random.Random(seed)
    return [household(rng) for _ in range(n)]


def reference_check(answers: dict[str, Any]) -> bool:
    """The minimal hand-written check: consent, integer types and the count bounds."""
    if answers.get("consent") != "yes":
        return answers.get("consent") == "no"
    members = answers.get("members")
    if not isinstance(members, int) or not 1 <= members <= 50:
        return False
    for field, bound in COUNT_BOUNDS:
        value = answers.get(field)
        if not isinstance(value, int) or not 0 <= value <= answers[bound]:
            return False
    return answers.get("fibre_available") in ("yes", "no")


def bench_validate(n: int = 20000) -> dict[str, Any]:
    """Validate `n` households and the reference check; return throughput figures."""
    form = compile_form(household_digital())
    data = households(n)
    start = time.perf_counter()
    valid = sum(1 for answers in data if form.validate(answers).ok)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    reference_valid = sum(1 for answers in data if reference_check(answers))
    reference_seconds = time.perf_counter() - start
    per_s = n / seconds if seconds else 0.0
    reference_per_s = n / reference_seconds if reference_seconds else 0.0
    return {"submissions": n, "valid": valid, "seconds": round(seconds, 4),
            "submissions_per_s": round(per_s, 1), "microseconds_per_submission": round(1e6 * seconds / max(n, 1), 2),
            "reference_valid": reference_valid, "reference_seconds": round(reference_seconds, 4),
            "reference_per_s": round(reference_per_s, 1),
            "ratio": round(reference_per_s / per_s, 2) if per_s else None}
