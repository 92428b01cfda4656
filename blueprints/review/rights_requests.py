"""The bureau's side of a person's deletion and correction requests (domain/rights_requests.py):
the list, one request beside a link to its record, and the answer. Reviewers only, and only
requests about records inside their jurisdiction; anything else is 404."""
from flask import abort, flash, request
from flask_login import current_user

from blueprints.forms_util import add_error
from blueprints.review import bp
from blueprints.review.forms import AnswerForm
from blueprints.roles import role_required
from blueprints.web import client_ip, redirect_to, render_page
from domain import rights_requests
from extensions import db
from models import RightsRequest, Role
from models.rights_request import RequestStatus

TABS = [("open", "待处理"), ("answered", "已处理")]


@bp.route("/requests")
@role_required(Role.REVIEWER)
def list_requests():
    tab = "answered" if request.args.get("status") == "answered" else "open"
    rows = rights_requests.requests_for(current_user.region, tab)
    return render_page("review/requests.html", rows=rows, tab=tab, tabs=TABS,
                       open_count=rights_requests.open_count(current_user.region))


def _request_in_scope(request_id: int) -> RightsRequest:
    found = db.session.get(RightsRequest, request_id)
    if found is None or not rights_requests.can_answer(current_user, found):
        abort(404)
    return found


def _request_page(found, form=None, status=200, conflict=False):
    return render_page("review/request.html", block="answer", status=status, item=found,
                       record=rights_requests.held_record(found.account),
                       form=form or AnswerForm(), conflict=conflict)


@bp.route("/requests/<int:request_id>")
@role_required(Role.REVIEWER)
def show_request(request_id):
    return _request_page(_request_in_scope(request_id))


@bp.route("/requests/<int:request_id>/answer", methods=["POST"])
@role_required(Role.REVIEWER)
def answer_request(request_id):
    found = _request_in_scope(request_id)
    form = AnswerForm()
    given = rights_requests.Answer(outcome=form.outcome.data or "",
                                   text=(form.text.data or "").strip(),
                                   confirmed=bool(form.confirm.data))
    problems = given.problems(found)
    if problems:
        for name, message in problems.items():
            add_error(form[name], message)
        return _request_page(found, form, 422)
    try:
        erased = rights_requests.answer(found, current_user, given, client_ip())
    except rights_requests.AlreadyAnswered:
        db.session.refresh(found)
        return _request_page(found, form, 409, conflict=True)
    words = "已删除其已提交的信息" if erased else \
        ("已答复：已办理" if given.outcome == RequestStatus.DONE else "已答复：不予办理")
    flash(f"{found.account.name}的{found.kind_label}请求{words}", "success")
    return redirect_to("review.list_requests")
