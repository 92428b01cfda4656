"""The schema is built only by migrating: the models must not drift from the migrations."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from extensions import db


def test_models_match_the_migrations(ctx):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_every_migration_is_on_one_line(app, ctx):
    config = app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_a_pending_photo_keeps_its_meaning_through_0007(tmp_path):
    """Rows stored as kind "id_photo.pending" become kind "id_photo" with the pending flag."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from config import TestConfig

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'migrate.db'}"

    app = create_app(Config)
    with app.app_context():
        upgrade(revision="0006_jobs")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO accounts (id, role, id_type, id_number, name, password_hash, "
                "must_bind_phone, must_change_password, is_enabled, failed_logins, imported, "
                "created_at, password_changed_at) VALUES (1, 'applicant', '居民身份证', "
                "'530102199001011234', '张三', 'x', 0, 0, 1, 0, 0, '2026-01-01', '2026-01-01')"))
            connection.execute(sa.text(
                "INSERT INTO applications (id, account_id, status, created_at, updated_at) "
                "VALUES (1, 1, 'draft', '2026-01-01', '2026-01-01')"))
            for material_id, kind in ((1, "id_photo"), (2, "id_photo.pending"), (3, "id_front")):
                connection.execute(sa.text(
                    "INSERT INTO materials (id, application_id, owner_id, kind, sha256, "
                    "size_bytes, width, height, notes, uploaded_at) VALUES (:id, 1, 1, :kind, "
                    "'x', 1, 1, 1, '', '2026-01-01')"), {"id": material_id, "kind": kind})
        upgrade(revision="0007_pending_photo")
        with db.engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT id, kind, pending FROM materials ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "id_photo", 0), (2, "id_photo", 1),
                                            (3, "id_front", 0)]
        downgrade(revision="0006_jobs")
        with db.engine.connect() as connection:
            kinds = connection.execute(sa.text("SELECT kind FROM materials ORDER BY id")).scalars()
            assert list(kinds) == ["id_photo", "id_photo.pending", "id_front"]
        db.engine.dispose()
