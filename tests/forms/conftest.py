"""Fixtures for the form engine tests: example forms as YAML files and the default form."""
from pathlib import Path

import pytest
import yaml

import forms

FIXTURES = Path(__file__).with_name("fixtures")


def load_yaml(name):
    """A fixture form document by file name."""
    return yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def small_doc():
    return load_yaml("small.yaml")


@pytest.fixture(scope="session")
def small():
    return forms.compile_form(load_yaml("small.yaml"))


@pytest.fixture(scope="session")
def default_form():
    return forms.compile_form(forms.household_digital())


@pytest.fixture
def household():
    """A complete, valid consenting household."""
    return {"consent": "yes", "household_number": "17", "head_name": "Rơ Mah Hyao", "phone": "0912345678",
            "location": "13.9833 108.0033 760 4.5", "members": 5, "members_15plus": 4, "adults": 3,
            "working_age": 3, "fibre_available": "yes", "fibre_subscribed": "no", "adults_smartphone": 2,
            "members_15plus_bank": 2, "adults_digital_signature": 1, "working_age_digital_skills": 1,
            "members_online": 3, "members_online_protected": 2, "adults_online_public_services": 1,
            "adults_telehealth": 0, "members_ehr": 4}
