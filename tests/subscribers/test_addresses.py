"""Addresses: one normal form, no header injection, keyed suppression hashes."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from subscribers.addresses import (
    EmailAddressError,
    email_normalise,
    name_clean,
    suppression_hash,
)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Anna.K@Example.COM ", "anna.k@example.com"),
        ("reader@пример.рф", "reader@xn--e1afmkfd.xn--p1ai"),
        ("reader@xn--e1afmkfd.xn--p1ai", "reader@xn--e1afmkfd.xn--p1ai"),
        ("Reader@Bücher.Example.", "reader@xn--bcher-kva.example"),
    ],
)
def test_email_normalise_gives_one_form(typed, stored):
    assert email_normalise(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "no-at-sign",
        "@example.com",
        "reader@",
        "reader@exa mple.com",
        "reader@example.com\r\nBcc: victim@example.com",
        "reader@example.com\nX-Injected: 1",
        "reader\x00@example.com",
        "a" * 300 + "@example.com",
        "reader@" + "a" * 70 + ".com",
        "reader@-bad-.com",
    ],
)
def test_email_normalise_refuses_malformed_and_injected_addresses(typed):
    with pytest.raises(EmailAddressError):
        email_normalise(typed)


@pytest.mark.parametrize("name", ["Anna\nBcc: x@example.com", "Anna\rK", "Anna\x00", "A" * 201])
def test_name_clean_refuses_newlines_control_characters_and_length(name):
    with pytest.raises(ValidationError):
        name_clean(name)


def test_name_clean_keeps_non_ascii_names():
    assert name_clean("  Анна Каренина ") == "Анна Каренина"


def test_suppression_hash_is_keyed_and_spelling_independent():
    digest = suppression_hash("Anna@Example.com")
    assert digest == suppression_hash(" anna@example.com")
    assert digest != hashlib.sha256(b"anna@example.com").hexdigest()
    with override_settings(SUBSCRIBERS_SUPPRESSION_KEY="another key"):
        assert suppression_hash("anna@example.com") != digest
