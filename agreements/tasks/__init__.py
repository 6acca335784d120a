"""Background work: what runs outside the request, on Django's tasks API, and how it recovers.

The signed PDF (render, seal, timestamp, store), every workflow mail and the reminders
run as tasks (django-tasks, the backport of Django 6's ``django.tasks``), stored in the
database by django-tasks-db and run by ``manage.py task_worker``. The modules:

- ``engine``: enqueueing on commit, the retry policy, a task's state in the task table.
- ``jobs``: the tasks themselves.
- ``recovery``: tasks whose worker died, and work whose enqueueing was lost.
- ``admin``: the task table and the sent mails for staff.
- ``apps``: the task table's app, named for the admin.

Each mail goes out once however often its task runs, through the ledger of sent mails
in ``agreements.outbox``, which the mail code uses with or without tasks.
"""
