"""Sources in the admin, as each role sees them: the record for all, the identity for nobody
without a grant, the password again and a reason, every attempt in the reveal log."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sources.models import AccessGrant, RevealEvent, Source
from sources.services import access_grant, access_revoke, source_create
from tests.factories import TEST_PASSWORD
from tests.sources.conftest import PLANTED_NAME, identity, source_fields

pytestmark = pytest.mark.django_db

ROLES = ["journalist", "editor", "keeper"]


def reveal_url(source):
    return reverse("admin:sources_source_reveal", args=[source.pk])


def reveal(client, source, *, password=TEST_PASSWORD, reason="Checking the quote before print."):
    return client.post(reveal_url(source), {"reason": reason, "password": password})


def give(source, user, keeper, **extra):
    return access_grant(
        source=source,
        user=user,
        granted_by=keeper,
        reason="Needs to check the story.",
        expires_at=extra.get("expires_at", timezone.now() + timedelta(days=3)),
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_record_and_no_identity(client, request, role, source):
    client.force_login(request.getfixturevalue(role))

    listing = client.get(reverse("admin:sources_source_changelist"))
    page = client.get(reverse("admin:sources_source_change", args=[source.pk]))
    search = client.get(reverse("admin:sources_source_changelist") + "?q=Zebulon")

    for response in (listing, page, search):
        assert response.status_code == 200
        assert PLANTED_NAME not in response.content.decode()
    assert "KESTREL" in listing.content.decode()
    assert "a source with contacts inside the Kremlin" in listing.content.decode()
    assert "KESTREL" not in search.content.decode().split("result-list")[-1]
    # Keepers alone see the grants and the reveal log on the source's page.
    assert ("For source keepers" in page.content.decode()) == (role == "keeper")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", ["with grant", "without grant", "expired grant", "revoked"])
def test_reveal_page_access_matrix(client, request, role, case, source, keeper):
    user = request.getfixturevalue(role)
    if case != "without grant":
        grant = give(source, user, keeper)
        if case == "expired grant":
            AccessGrant.objects.filter(pk=grant.pk).update(
                created_at=timezone.now() - timedelta(days=5),
                expires_at=timezone.now() - timedelta(minutes=1),
            )
        if case == "revoked":
            access_revoke(grant=grant, acting_user=keeper)
    client.force_login(user)

    response = reveal(client, source)

    page = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    (event,) = RevealEvent.objects.all()
    assert event.user == user
    if case == "with grant":
        assert PLANTED_NAME in page and event.outcome == "revealed"
    else:
        assert PLANTED_NAME not in page and event.outcome == "refused"
        assert "no access grant in force" in page


def test_reveal_needs_the_password_again_within_five_minutes(client, source, journalist, keeper):
    give(source, journalist, keeper)
    client.force_login(journalist)

    assert PLANTED_NAME not in reveal(client, source, password="").content.decode()
    wrong = reveal(client, source, password="not my password").content.decode()
    assert "That is not your password." in wrong and PLANTED_NAME not in wrong
    assert PLANTED_NAME in reveal(client, source).content.decode()
    # Typed a moment ago: not asked again …
    page = client.get(reveal_url(source)).content.decode()
    assert 'name="password"' not in page
    assert PLANTED_NAME in reveal(client, source, password="").content.decode()
    # … but after five minutes, it is.
    session = client.session
    session["sources.password_confirmed_at"] -= 301
    session.save()
    assert PLANTED_NAME not in reveal(client, source, password="").content.decode()

    outcomes = list(RevealEvent.objects.order_by("pk").values_list("outcome", "refusal"))
    assert outcomes == [
        ("refused", "the password was not typed again"),
        ("refused", "the password was not typed again"),
        ("revealed", ""),
        ("revealed", ""),
        ("refused", "the password was not typed again"),
    ]


def test_a_journalist_registers_a_source_in_the_admin_and_never_sees_the_identity_again(
    client, journalist, keeper, source
):
    client.force_login(journalist)
    response = client.post(
        reverse("admin:sources_source_add"),
        {
            "codename": "HERON",
            "descriptors": "a person close to the talks\nsources familiar with the talks",
            **source_fields(),
            "identity_name": "zebulon QUARTERMAINE-vasquez",  # the same person as KESTREL
            "identity_position": "Deputy head",
            "identity_contacts": "+7 915 555 01 23",
            "identity_notes": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    heron = Source.objects.get(codename="HERON")
    assert heron.handler == journalist
    assert list(heron.descriptors.values_list("text", "plural")) == [
        ("a person close to the talks", False),
        ("sources familiar with the talks", True),
    ]
    page = client.get(reverse("admin:sources_source_change", args=[heron.pk])).content.decode()
    assert "zebulon" not in page.lower() and "555" not in page
    # The journalist is not told who else this may be; a keeper is.
    assert "may already be" not in page
    client.force_login(keeper)
    page = client.get(reverse("admin:sources_source_change", args=[heron.pk])).content.decode()
    assert "This person may already be:" in page and "KESTREL" in page


def test_the_add_form_refuses_boilerplate_and_a_missing_key(client, journalist, settings):
    client.force_login(journalist)
    data = {
        "codename": "HERON",
        "descriptors": "an official",
        **source_fields(anonymity_reason="Requested anonymity."),
        "identity_name": "Some One",
    }
    page = client.post(reverse("admin:sources_source_add"), data).content.decode()
    assert "“requested anonymity” alone is not a reason" in page
    settings.SOURCE_MASTER_KEY = ""
    data["anonymity_reason"] = source_fields()["anonymity_reason"]
    page = client.post(reverse("admin:sources_source_add"), data).content.decode()
    assert "SOURCE_MASTER_KEY is not set" in page
    assert not Source.objects.filter(codename="HERON").exists()


def test_a_journalist_changes_only_the_sources_they_handle(client, journalist, editor, source):
    theirs = source_create(
        acting_user=editor,
        codename="HERON",
        identity=identity(name="Other Person"),
        descriptors=["an official"],
        **source_fields(),
    )
    client.force_login(journalist)
    mine = client.get(reverse("admin:sources_source_change", args=[source.pk])).content.decode()
    other = client.get(reverse("admin:sources_source_change", args=[theirs.pk])).content.decode()
    assert 'name="_save"' in mine
    assert 'name="_save"' not in other


def test_keepers_grant_in_the_admin_and_nobody_edits_the_reveal_log(
    client, keeper, journalist, editor, source
):
    client.force_login(editor)
    assert client.get(reverse("admin:sources_accessgrant_add")).status_code == 403
    assert client.get(reverse("admin:sources_revealevent_changelist")).status_code == 403

    client.force_login(keeper)
    expires = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    response = client.post(
        reverse("admin:sources_accessgrant_add"),
        {
            "source": source.pk,
            "user": journalist.pk,
            "reason": "Fact-checks the Kremlin story.",
            "expires_at_0": expires.split()[0],
            "expires_at_1": expires.split()[1],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    grant = AccessGrant.objects.get()
    assert (grant.user, grant.granted_by) == (journalist, keeper)

    client.force_login(journalist)
    reveal(client, source)
    event = RevealEvent.objects.get()
    client.force_login(keeper)
    log = client.get(
        reverse("admin:sources_revealevent_changelist") + f"?user__id__exact={journalist.pk}"
    )
    assert log.status_code == 200 and "Checking the quote before print." in log.content.decode()
    change = reverse("admin:sources_revealevent_change", args=[event.pk])
    assert 'name="_save"' not in client.get(change).content.decode()
    delete = reverse("admin:sources_revealevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert RevealEvent.objects.count() == 1


def test_source_history_compares_versions_without_the_identity(client, editor, source):
    client.force_login(editor)
    change = reverse("admin:sources_source_change", args=[source.pk])
    descriptor = source.descriptors.order_by("pk").first()
    response = client.post(
        change,
        {
            "codename": "KESTREL",
            "basis": "documents",
            "reliability": "proven",
            "motive": source.motive,
            "anonymity_reason": source.anonymity_reason,
            "descriptors-TOTAL_FORMS": "2",
            "descriptors-INITIAL_FORMS": "1",
            "descriptors-MIN_NUM_FORMS": "1",
            "descriptors-0-id": descriptor.pk,
            "descriptors-0-source": source.pk,
            "descriptors-0-text": descriptor.text,
            "descriptors-1-source": source.pk,
            "descriptors-1-text": "people familiar with the Kremlin's plans",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]

    history = client.get(reverse("admin:sources_source_history", args=[source.pk]))
    assert history.status_code == 200
    from reversion.models import Version

    old, new = Version.objects.get_for_object(source).order_by("pk")
    compare = client.get(
        reverse("admin:sources_source_history_compare", args=[source.pk])
        + f"?from={old.pk}&to={new.pk}"
    )
    page = compare.content.decode()
    assert compare.status_code == 200
    summary = page.split('class="bell-compare-summary"')[1].split("</p>")[0]
    assert "Basis; Reliability; Descriptors (1 added)" in " ".join(summary.split())
    assert "<ins>Documents:</ins>" in page or "Documents" in page
    assert "familiar" in page
    assert PLANTED_NAME not in page


def test_a_revert_keeps_status_and_verification_and_is_for_editors_only(
    client, source, journalist, editor, keeper
):
    from reversion.models import Version

    from sources.consequences import source_status_set
    from sources.services import source_verify

    source_verify(source=source, acting_user=editor)
    source_status_set(source=source, status="burned", note="Forged letter.", acting_user=keeper)
    first = Version.objects.get_for_object(source).order_by("pk").first()
    revert = reverse("admin:sources_source_revision", args=[source.pk, first.pk])

    client.force_login(journalist)  # the handler
    assert client.get(revert).status_code == 403

    client.force_login(editor)
    page = client.get(revert)
    assert page.status_code == 200
    from tests.issues.test_admin import changeform_data

    data = changeform_data(page)
    assert client.post(revert, data).status_code == 302
    source.refresh_from_db()
    assert (source.status, source.verified_by) == ("burned", editor)


def test_the_change_form_refuses_boilerplate_too(client, source, journalist):
    client.force_login(journalist)
    url = reverse("admin:sources_source_change", args=[source.pk])
    from tests.issues.test_admin import changeform_data

    data = changeform_data(client.get(url))
    data["anonymity_reason"] = "requested anonymity"
    page = client.post(url, data).content.decode()
    assert "“requested anonymity” alone is not a reason" in page
    source.refresh_from_db()
    assert source.anonymity_reason == source_fields()["anonymity_reason"]


def test_a_wrong_password_within_the_five_minutes_is_still_refused(
    client, source, journalist, keeper
):
    give(source, journalist, keeper)
    client.force_login(journalist)
    assert PLANTED_NAME in reveal(client, source).content.decode()
    page = reveal(client, source, password="a guess").content.decode()
    assert PLANTED_NAME not in page and "That is not your password." in page
    # And the right one is asked for again.
    assert PLANTED_NAME not in reveal(client, source, password="").content.decode()


def test_cited_in_lists_only_stories_the_person_may_open(
    client, source, journalist, editor, newsroom_groups
):
    from sources.citing import citation_add
    from tests.factories import BlockFactory, StoryFactory, UserFactory

    story = StoryFactory(authors=[editor], headline="SECRET-HEADLINE about the pipeline")
    BlockFactory(story=story, position=1, text="A source told The Bell.")
    citation_add(
        block=story.blocks.get(),
        sources=[source],
        descriptor="a Kremlin insider",
        acting_user=editor,
    )
    url = reverse("admin:sources_source_change", args=[source.pk])
    client.force_login(editor)
    assert "SECRET-HEADLINE" in client.get(url).content.decode()
    client.force_login(UserFactory(username="colleague", groups=["Journalists"]))
    assert "SECRET-HEADLINE" not in client.get(url).content.decode()
