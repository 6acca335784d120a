"""The bench's own world: a fresh ``sla_bench`` database, directories, seal, static files.

``prepare()`` drops and recreates the database and the directories under
``common.BENCH_ROOT`` and loads the demo data through the real workflow; ``teardown()``
drops the database again. Nothing here touches the developers' ``var/`` or databases.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg2
from psycopg2 import sql

from .common import BENCH_ROOT, DB_NAME, DB_SERVER, log


def _admin_connection():
    connection = psycopg2.connect(f"{DB_SERVER}/postgres")
    # CREATE / DROP DATABASE refuse to run in a transaction (and so in ``with connection``).
    connection.autocommit = True
    return connection


def database_drop() -> None:
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME))
        )
    connection.close()


def database_create() -> None:
    database_drop()
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    connection.close()


def directories_create() -> None:
    if BENCH_ROOT.exists():
        shutil.rmtree(BENCH_ROOT)
    for name in ("var", "media", "static"):
        (BENCH_ROOT / name).mkdir(parents=True)


def prepare() -> None:
    """A new database with the schema, the seal, collected static files and the demo data.

    Call after ``common.django_setup()``.
    """
    from django.conf import settings
    from django.core.management import call_command

    from agreements.archive import signed_pdf_store
    from agreements.demo import load_demo, signed_demo_agreement
    from agreements.seal import seal_certificate_create

    log(f"fresh database {DB_NAME} and directories under {BENCH_ROOT}")
    directories_create()
    database_create()
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    seal_certificate_create(
        key_file=Path(settings.SLA_SEAL_KEY_FILE), cert_file=Path(settings.SLA_SEAL_CERT_FILE)
    )
    load_demo()
    # Its completion enqueued the PDF's task; no worker runs yet: stored here, as
    # `manage.py load_demo` does (the task, run later, finds it stored).
    signed_pdf_store(agreement_id=signed_demo_agreement().pk)


def teardown() -> None:
    """Drop the bench database; the files under BENCH_ROOT stay for a look afterwards."""
    from django.db import connections

    connections.close_all()
    database_drop()
