"""Teams: an organisation's administrators invite people, set their roles and remove them.

An app of its own (label ``team``) beside ``agreements``: its models (the invitation and
the organisation's log) build on ``Organisation`` and ``Membership`` and nothing of the
agreements builds on them. The modules: ``models`` (rows), ``tokens`` (the invitation
link), ``rules`` (what keeps SLAs valid), ``domain`` (every change of a team),
``mails`` and ``tasks`` (the invitation mail), ``forms``, ``views``, ``urls``.
"""
