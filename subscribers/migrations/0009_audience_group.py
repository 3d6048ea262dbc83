"""Who sees subscribers: the Audience group (the people who look after the readers) and the
editors, by default.

Both see subscribers and export them, and import them in the admin (which takes adding and
changing subscribers). The Audience group also keeps the suppression list (adds an entry, lifts one at the
person's request). Erasing a subscriber (``delete_subscriber``) is given to nobody here: it is
granted by hand. Running it again adds nothing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_PERMISSIONS = {
    "Audience": [
        "view_subscriber",
        "add_subscriber",
        "change_subscriber",
        "view_subscription",
        "view_subscriberevent",
        "view_suppression",
        "add_suppression",
        "change_suppression",
    ],
    "Editors": [
        "view_subscriber",
        "add_subscriber",
        "change_subscriber",
        "view_subscription",
        "view_subscriberevent",
    ],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; this migration needs them now.
    app_config = apps.get_app_config("subscribers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="subscribers", codename__in=codenames
        )
        assert permissions.count() == len(codenames), f"missing permissions for {name}"
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=GROUP_PERMISSIONS):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="subscribers",
                codename__in=GROUP_PERMISSIONS[group.name],
            )
        )
    Group.objects.filter(name="Audience", permissions=None).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0008_member_import"),
        ("issues", "0002_newsroom_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
