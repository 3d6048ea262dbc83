"""Who may do what with a source, in one place for the admin and the services."""


def user_has_source_perm(user, codename: str) -> bool:
    """An active account holding ``sources.<codename>``."""
    return bool(user and user.is_active and user.has_perm(f"sources.{codename}"))


def user_is_keeper(user) -> bool:
    """Source keepers grant and revoke access to identities and read the reveal log."""
    return bool(user and user.is_active and user.has_perm("sources.grant_access"))


def user_may_change_source(user, source) -> bool:
    """The handler changes their own sources; editors and keepers any."""
    if not (user and user.is_active and user.has_perm("sources.change_source")):
        return False
    return (
        source is None
        or source.handler_id == user.pk
        or user.has_perm("sources.verify_source")
        or user_is_keeper(user)
    )
