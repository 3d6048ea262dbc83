"""What each newsroom group may do with sources. Identities are not a permission: reading one
takes an access grant from a source keeper, per person and source, and is logged.

Journalists register sources, with the descriptors they propose, and keep their contact log (the
admin lets them change only the sources they handle); editors approve descriptors (add, change,
remove them) and verify sources; source keepers also grant and revoke access and read the
reveal log.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_PERMISSIONS = {
    "Journalists": [
        "view_source",
        "add_source",
        "change_source",
        "view_descriptor",
        "view_contactlogentry",
        "add_contactlogentry",
    ],
    "Editors": [
        "view_source",
        "add_source",
        "change_source",
        "verify_source",
        "view_descriptor",
        "add_descriptor",
        "change_descriptor",
        "delete_descriptor",
        "view_contactlogentry",
    ],
    "Source keepers": [
        "view_source",
        "add_source",
        "change_source",
        "grant_access",
        "view_descriptor",
        "add_descriptor",
        "change_descriptor",
        "delete_descriptor",
        "view_contactlogentry",
        "view_accessgrant",
        "add_accessgrant",
        "view_revealevent",
    ],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; this migration needs them now.
    app_config = apps.get_app_config("sources")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="sources", codename__in=codenames
        )
        assert permissions.count() == len(codenames), f"missing permissions for {name}"
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=GROUP_PERMISSIONS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="sources"))


class Migration(migrations.Migration):
    dependencies = [
        ("sources", "0002_reveal_log_append_only"),
        ("issues", "0002_newsroom_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
