"""How the portal names a person: one rule for pages, mails, the document and its snapshot.

The full name where the account has one, else the user name. The document prints it
under the signature line and the frozen snapshot hashes it, so it must read the same
everywhere; ``{{ user|display_name }}`` (templatetags ``sla_people``) is the same rule.
"""


def display_name(user) -> str:
    """ "Anna Keller", or "akeller" for an account without a name; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
