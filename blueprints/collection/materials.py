"""证明材料: the list of required photos, uploads (plain form or our compressing script), the
1-inch photo's preview and confirmation, and the work certificate PDF."""
from flask import abort, current_app, flash, make_response, request
from flask_login import current_user

from blueprints.collection import bp
from blueprints.web import redirect_to, render_page
from domain import applications, changes, materials
from domain.images import ImageRejected, ImageRules
from domain.work_certificate import CertificateUnavailable, work_certificate_pdf


def _application():
    return applications.application_for(current_user)


def _in_scope(application, kind: str) -> bool:
    """A change (信息变更) replaces only the pictures of the parts it changes."""
    return not application.is_open_change or kind in changes.material_kinds(application)


def _materials_page(application, status=200, problem=None, problem_kind=None):
    specs = [spec for spec in materials.required_materials(application)
             if _in_scope(application, spec.kind)] \
        if materials.data_sections_done(application) else []
    stale = dict(changes.stale_pictures(application)) if application.is_open_change else {}
    return render_page("collection/materials.html", block="materials", status=status,
                       application=application, specs=specs,
                       uploaded=materials.materials_of(application),
                       ready=materials.data_sections_done(application),
                       locked=applications.lock_reason(application, "materials"),
                       problem=problem, problem_kind=problem_kind, stale=stale)


@bp.route("/materials")
def materials_index():
    return _materials_page(_application())


@bp.route("/materials/<kind>", methods=["POST"])
def upload_material(kind):
    application = _application()
    spec = materials.spec_for(application, kind)
    if spec is None or not materials.data_sections_done(application) \
            or not _in_scope(application, kind):
        abort(404)
    if applications.lock_reason(application, "materials"):
        return _materials_page(application, 409)
    upload = request.files.get("photo")
    data = upload.read() if upload else b""
    try:
        image = materials.process_upload(spec, data, ImageRules.from_config(current_app.config))
    except ImageRejected as rejected:
        return _materials_page(application, 422, problem=rejected.message, problem_kind=kind)
    if spec.is_id_photo:
        materials.store(application, kind, image, pending=True)
        return redirect_to("collection.photo_preview")
    materials.store(application, kind, image)
    flash(f"{spec.title}已上传。" + ("；".join(image.fixes) if image.fixes else ""), "success")
    return redirect_to("collection.materials_index", _anchor=f"material-{kind}")


@bp.route("/materials/id_photo/preview", methods=["GET", "POST"])
def photo_preview():
    application = _application()
    pending = materials.pending_photo(application)
    if request.method == "POST":
        if applications.lock_reason(application, "materials"):
            return _materials_page(application, 409)
        if materials.confirm_pending_photo(application):
            flash("证件照已保存。", "success")
        return redirect_to("collection.materials_index", _anchor="material-id_photo")
    if pending is None:
        return redirect_to("collection.materials_index")
    return render_page("collection/photo_preview.html", application=application, pending=pending)


@bp.route("/work-certificate.pdf")
def work_certificate():
    application = _application()
    try:
        pdf = work_certificate_pdf(application)
    except CertificateUnavailable as unavailable:
        flash(unavailable.message, "error")
        return redirect_to("collection.section", key="work")
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = "attachment; filename=work-certificate.pdf"
    return response

