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


@pytest.mark.parametrize(
    "typed",
    ['"anna"@example.com', '"a\\nna"@example.com', '"\\anna"@example.com', '"Anna"@Example.com'],
)
def test_email_normalise_unquotes_a_quoted_local_part_that_is_a_plain_one(typed):
    # All of these deliver to anna@example.com: one subscriber, one suppression entry.
    assert email_normalise(typed) == "anna@example.com"
    assert suppression_hash(typed) == suppression_hash("anna@example.com")


@pytest.mark.parametrize(
    "typed",
    [
        '"an na"@example.com',
        '"a@b"@example.com',
        '""@example.com',
        '"anna".k@example.com',
        "an\\na@example.com",
        '"anna\\"@example.com',
        '"a"n"a"@example.com',
        '"anna..k"@example.com',
    ],
)
def test_email_normalise_refuses_other_quoted_local_parts_clearly(typed):
    with pytest.raises(EmailAddressError) as caught:
        email_normalise(typed)
    assert "quotation marks" in caught.value.messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed", ['"anna"@example.com', '"a\\nna"@example.com', '"\\anna"@example.com']
)
def test_quoted_spelling_does_not_slip_past_suppression_or_resend_limit(
    typed, newsletter, django_capture_on_commit_callbacks
):
    from django.core import mail

    from subscribers.models import Subscriber
    from subscribers.services import address_suppress, subscriber_subscribe

    with django_capture_on_commit_callbacks(execute=True):
        subscriber_subscribe(email="anna@example.com", newsletter=newsletter)
        subscriber_subscribe(email=typed, newsletter=newsletter)
    assert len(mail.outbox) == 1  # the per-address limit counts both spellings together
    assert Subscriber.objects.count() == 1
    address_suppress(email="anna@example.com", reason="manual")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        subscriber_subscribe(email=typed, newsletter=newsletter)
    assert mail.outbox == []
    assert Subscriber.objects.get().email == "anna@example.com"
