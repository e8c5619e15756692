"""Translated names of the domain's codes (roles, levels, statuses, counted units) for templates."""
from flask import g
from flask_babel import gettext as _

from .i18n import current_language


def role_names():
    return {"admin": _("Administrator"), "district_staff": _("District staff"), "collector": _("Collector")}


def level_names():
    return {"province": _("province"), "district": _("district"), "commune": _("commune"),
            "village": _("village")}


def counted_over():
    return {"households": _("households"), "adults": _("adults"), "people_15plus": _("people aged 15+"),
            "working_age": _("working-age people"), "people": _("people"),
            "people_online": _("people online")}


def status_names():
    return {"met": _("met"), "not_met": _("not met"), "no_data": _("no data")}


def submission_statuses():
    return {"accepted": _("accepted"), "superseded": _("superseded"), "rejected": _("rejected"),
            "conflict": _("conflict"), "discarded": _("discarded")}


def download_names():
    return {"pdf": _("PDF report"), "csv": _("CSV export"), "xlsx": _("Excel export")}


def nav_items():
    """The menu for the signed-in user's role."""
    user = g.get("user")
    if user is None:
        return []
    items = [("web.dashboard", _("Dashboard"))]
    if user.role == "admin":
        items += [("web.forms", _("Forms")), ("web.submissions", _("Submissions")),
                  ("web.users", _("Users")), ("web.units", _("Units")), ("web.audit", _("Audit log"))]
    elif user.role == "district_staff":
        items += [("web.submissions", _("Submissions"))]
    else:
        items += [("web.submissions", _("My submissions"))]
    return items


def template_globals():
    """Everything the base template and pages need on every request."""
    return {"current_lang": current_language(), "nav_items": nav_items(), "role_names": role_names(),
            "level_names": level_names(), "counted_over": counted_over(), "status_names": status_names(),
            "download_names": download_names(), "submission_statuses": submission_statuses()}
