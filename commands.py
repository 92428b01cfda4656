"""Operator commands: `flask regions load`, `flask accounts import-archive FILE`,
`flask accounts create-staff ...`, `flask audit verify`, `flask jobs work|failed|retry`,
`flask maintenance purge`, `flask demo seed`."""
from pathlib import Path

import click
from flask.cli import AppGroup

from domain.accounts import AccountProblem
from domain.id_numbers import InvalidIdNumber
from domain.person_names import InvalidName
from domain.phones import InvalidPhone

regions_cli = AppGroup("regions", help="Yunnan's administrative divisions.")
accounts_cli = AppGroup("accounts", help="Accounts: archive import and staff.")
audit_cli = AppGroup("audit", help="The append-only audit log.")
demo_cli = AppGroup("demo", help="Demo data (never in production).")
jobs_cli = AppGroup("jobs", help="Background jobs: the worker, failed jobs.")
maintenance_cli = AppGroup("maintenance", help="Removing data past its retention.")


@regions_cli.command("load")
def load_regions_command():
    """Load or update the 16 prefectures and 129 counties (safe to repeat)."""
    from domain.regions import load_regions
    added, updated = load_regions()
    click.echo(f"regions: {added} added, {updated} updated")


@accounts_cli.command("import-archive")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rejected", "rejected_path", type=click.Path(dir_okay=False, path_type=Path),
              help="write the rejected rows here (CSV for Excel, with a 拒绝原因 column)")
def import_archive_command(path, rejected_path):
    """Import existing accountants from a CSV or XLSX file (姓名,证件号码,资格级别,证书编号,取得日期).
    Prints each rejected row with its reason as it goes, progress on stderr, then the counts."""
    from domain.archive_import import import_file
    shown = {"rows": 0}

    def progress(report):
        if report.done - shown["rows"] >= 10000:
            shown["rows"] = report.done
            click.echo(f"  {report.done} / {report.total} rows", err=True)

    try:
        report = import_file(path, rejected_path=rejected_path, on_batch=progress,
                             on_rejected=lambda row, reason: click.echo(f"  row {row}: {reason}"))
    except ValueError as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(f"accepted: {report.accepted}")
    click.echo(f"unchanged: {report.unchanged}")
    click.echo(f"rejected: {report.rejected_count}")
    if rejected_path and report.rejected_count:
        click.echo(f"rejected rows written to {rejected_path}")


@accounts_cli.command("create-staff")
@click.option("--role", required=True, type=click.Choice(["reviewer", "admin", "auditor"]))
@click.option("--region", "region_code", required=True, help="county, prefecture or 530000")
@click.option("--id-number", required=True)
@click.option("--name", required=True)
@click.option("--phone", required=True)
def create_staff_command(role, region_code, id_number, name, phone):
    """Create a staff account and print its one-time password."""
    from domain.staff import create_staff
    try:
        account, password = create_staff(role, region_code, id_number, name, phone)
    except (AccountProblem, InvalidIdNumber, InvalidName, InvalidPhone) as problem:
        raise click.ClickException(str(getattr(problem, "message", problem))) from None
    click.echo(f"created {role} {account.name} for {account.region.bureau_name}")
    click.echo(f"one-time password (shown once, must be changed at first login): {password}")


@audit_cli.command("verify")
@click.option("--anchors", "anchor_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a file of anchors or application log lines with AUDIT-ANCHOR (repeatable)")
def verify_audit_command(anchor_files):
    """Check the hash chain of the audit log, and its end against the anchors kept outside it
    (Redis, AUDIT_ANCHOR_FILE, and any --anchors files); exit 1 if anything was changed."""
    from domain import audit_anchors
    from domain.audit import verify
    anchors = audit_anchors.kept()
    for path in anchor_files:
        anchors += audit_anchors.read(path.read_text(encoding="utf-8"))
    problems = verify() + audit_anchors.problems(anchors)
    if problems:
        for problem in problems:
            click.echo(problem)
        raise SystemExit(1)
    click.echo(f"audit log intact ({len(set(anchors))} anchors checked)")


@audit_cli.command("anchor")
def anchor_audit_command():
    """Write the head of the audit log to the anchors now (the worker does every 5 minutes)."""
    from domain import audit_anchors
    anchor = audit_anchors.take()
    click.echo(f"anchored row {anchor.id}" if anchor else "the audit log is empty")


@demo_cli.command("seed")
@click.option("--applicants", default=1000, show_default=True, type=click.IntRange(0, 2_000_000))
@click.option("--seed", default=2026, show_default=True, help="random seed, for repeatable data")
@click.option("--photos", default=300, show_default=True, type=click.IntRange(0, 100_000),
              help="submitted applications given generated photos (演示样例), oldest in the queue")
def demo_seed_command(applicants, seed, photos):
    """Fill the database with realistic applications and a reviewer per county and prefecture."""
    import time

    from flask import current_app

    from domain import demo
    if current_app.config["ENV_NAME"] == "production":  # staging may, for its load tests
        raise click.ClickException("demo data is refused in production")
    started = time.perf_counter()
    password_hash = demo.hasher().hash(demo.DEMO_PASSWORD)
    try:
        staff = demo.seed_staff(password_hash)
    except demo.NoRegions as missing:
        raise click.ClickException(str(missing)) from None
    demo.seed_applicants(applicants, seed=seed, photos=photos,
                         progress=lambda n: click.echo(f"  {n} applicants", err=True)
                         if n % 50000 == 0 else None)
    click.echo(f"{applicants} applicants and {len(staff)} staff in "
               f"{time.perf_counter() - started:.1f} s")
    _echo_logins(staff)
    click.echo("List the logins again any time: flask demo logins [--bureau 五华区]")


def _echo_logins(staff):
    from domain import demo
    click.echo(f"Every demo account's password: {demo.DEMO_PASSWORD}")
    for role, bureau, id_number in staff:
        click.echo(f"  {role:9} {bureau:16} log in with ID {id_number}")


@demo_cli.command("logins")
@click.option("--bureau", default="", help="only the bureaus whose name contains this, e.g. 五华区")
def demo_logins_command(bureau):
    """List the demo staff logins again (flask demo seed prints them once)."""
    from flask import current_app

    from domain import demo
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("there is no demo data in production")
    try:
        staff = [row for row in demo.staff_logins() if bureau in row[1]]
    except demo.NoRegions as missing:
        raise click.ClickException(str(missing)) from None
    if not staff:
        raise click.ClickException("no demo staff found: run `flask demo seed` first")
    _echo_logins(staff)


@jobs_cli.command("work")
@click.option("--burst", is_flag=True, help="stop when the queue is empty (tests)")
def jobs_work_command(burst):
    """Run the job worker (JOB_BACKEND=rq): SMS, notices, exports, imports, purges, pre-checks."""
    from flask import current_app

    from domain.prechecks import load_engines
    from jobs.worker import work
    if current_app.config["JOB_BACKEND"] != "rq":
        raise click.ClickException("the worker serves JOB_BACKEND=rq; with 'thread' the app "
                                   "runs its jobs itself")
    load_engines()   # the OCR and face models, once for the worker's life
    work(current_app._get_current_object(), burst=burst)


@jobs_cli.command("failed")
def jobs_failed_command():
    """List jobs whose every attempt failed."""
    from domain.job_admin import failed_jobs
    for job in failed_jobs():
        click.echo(f"{job.id}\t{job.kind}\t{job.attempts} attempts\t{job.finished_at}\t"
                   f"{job.last_error.strip().splitlines()[-1] if job.last_error else ''}")


@jobs_cli.command("retry")
@click.argument("job_id", type=int)
def jobs_retry_command(job_id):
    """Queue a failed job again."""
    from domain.job_admin import retry
    if not retry(job_id, actor=None, ip=""):
        raise click.ClickException(f"job {job_id} is not a failed job")
    click.echo(f"job {job_id} queued again")


@maintenance_cli.command("purge")
def purge_command():
    """Remove spent captchas, old SMS codes, ended sessions, old jobs and expired files."""
    from domain.maintenance import purge
    for kind, count in purge().items():
        click.echo(f"{kind}: {count} removed")


def register(app):
    app.cli.add_command(regions_cli)
    app.cli.add_command(accounts_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(maintenance_cli)
