"""The newsroom's groups and what each may do with editorial content.

Finer rules (a journalist changes only the stories they author) live in the admin querysets
and the workflow services; these are the model permissions underneath them. Later apps add their permissions to the same
groups in their own migrations.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_PERMISSIONS = {
    "Journalists": [
        "view_newsletter",
        "view_issue",
        "add_story",
        "change_story",
        "view_story",
        "add_block",
        "change_block",
        "delete_block",
        "view_block",
    ],
    "Editors": [
        "view_newsletter",
        "change_newsletter",
        "add_issue",
        "change_issue",
        "delete_issue",
        "view_issue",
        "add_story",
        "change_story",
        "delete_story",
        "view_story",
        "add_block",
        "change_block",
        "delete_block",
        "view_block",
    ],
    "Source keepers": [
        "view_newsletter",
        "view_issue",
        "view_story",
        "view_block",
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; this migration needs them now.
    app_config = apps.get_app_config("issues")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="issues", codename__in=codenames
        )
        assert permissions.count() == len(codenames), f"missing permissions for {name}"
        group.permissions.add(*permissions)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
