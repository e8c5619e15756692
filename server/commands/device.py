"""`langso device ...`: a collector's device in the terminal, over the library in sync/device/app.py.

Needs no database and no Flask app: the device's data lives in --device-dir
(or $LANGSO_DEVICE_DIR, default ~/.langso-device), one SQLite file readable by its owner only.
"""
import functools
import json
import sys

import click

from sync.device.app import DEFAULT_BATCH, Device, InvalidVisit
from sync.device.client import ClientError, NotLoggedIn
from sync.device.interview import Interview
from sync.device.outbox import now_iso

TEXTS = {  # key -> (Vietnamese, English)
    "village": ("Thôn/làng (mã)", "Village (code)"),
    "household": ("Mã hộ gia đình", "Household key"),
    "known_household": ("Hộ {key} đã có trong thôn {village}. Ghi một lần thăm mới?",
                        "Household {key} is already known in village {village}. Record a new visit?"),
    "choose": ("Chọn", "Choose"),
    "several": ("chọn nhiều, cách nhau bằng dấu cách", "several allowed, separated by spaces"),
    "optional": ("Enter để bỏ qua", "Enter to skip"),
    "refusal": ("Hộ không đồng ý tham gia; lần thăm được ghi là từ chối.",
                "The household declined; the visit is recorded as a refusal."),
    "saved": ("Đã lưu vào hàng đợi: {id} (thôn {village}, hộ {key}).",
              "Queued: {id} (village {village}, household {key})."),
    "confirm": ("Lưu lần thăm này?", "Save this visit?"),
    "discarded": ("Đã bỏ, không lưu gì.", "Discarded; nothing was saved."),
}


def say(text_key, lang, **values):
    """A prompt or message in the collector's language."""
    vi, en = TEXTS[text_key]
    return (en if lang == "en" else vi).format(**values)


@click.group()
@click.option("--device-dir", envvar="LANGSO_DEVICE_DIR", type=click.Path(file_okay=False),
              help="Where this device keeps its data [env LANGSO_DEVICE_DIR; default ~/.langso-device].")
@click.pass_context
def device(ctx, device_dir):
    """Collect household visits offline and sync them with a langso server."""
    ctx.meta["langso_device_dir"] = device_dir


def with_device(command):
    """Give the command the Device (closed afterwards) as its first argument; turn sync errors into messages."""
    @functools.wraps(command)
    @click.pass_context
    def wrapped(ctx, *args, **kwargs):
        with Device(ctx.meta.get("langso_device_dir")) as dev:
            try:
                return command(dev, *args, **kwargs)
            except NotLoggedIn as error:
                raise click.ClickException(f"{error.message}\nLog in again: langso device login "
                                           f"{dev.outbox.get('server_url') or 'URL'}") from error
            except ClientError as error:
                raise click.ClickException(_describe(error)) from error
    return wrapped


def _describe(error):
    """A ClientError as one readable message with its field errors."""
    lines = [error.message] + [f"  {e.get('field')}: {e.get('message')}" for e in error.errors]
    return "\n".join(lines)


@device.command()
@click.argument("url")
@click.option("--username", prompt=True, help="Your langso account.")
@click.option("--password", prompt=True, hide_input=True, help="Asked for when not given (safer).")
@with_device
def login(dev, url, username, password):
    """Log this device in to the server at URL and keep its token (never shown)."""
    user = dev.login(url, username, password)
    scope = ", ".join(f"{u.get('name')} ({u.get('code')})" for u in user.get("scope", []))
    click.echo(f"Logged in to {dev.outbox.get('server_url')} as {user.get('username', username)}"
               + (f" — {user.get('role')}: {scope}" if user.get("role") else ""))
    click.echo("Next: langso device pull")


@device.command()
@with_device
def logout(dev):
    """Forget this device's token (queued visits stay)."""
    dev.logout()
    click.echo("Logged out; queued visits are kept.")


@device.command()
@click.option("--full", is_flag=True, help="Fetch everything again instead of only what changed.")
@with_device
def pull(dev, full):
    """Fetch forms, villages and household keys for offline work (only what changed since last time)."""
    report = dev.pull(full=full)
    if report.unchanged:
        click.echo("Nothing changed since the last pull.")
        return
    for name in report.forms_downloaded:
        click.echo(f"form downloaded: {name}")
    for name in report.forms_removed:
        click.echo(f"form withdrawn: {name}")
    click.echo(f"{report.villages} village(s), {report.households} household key(s) received"
               + (f"; {report.villages_removed} village(s) and {report.households_removed} key(s) removed"
                  if report.villages_removed or report.households_removed else ""))


@device.command()
@click.option("--form", "form_id", help="Form id (default: the only downloaded form).")
@click.option("--version", help="Form version (default: the latest downloaded).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the questions and messages.")
@click.option("--from-json", "json_file", type=click.File("r", encoding="utf-8-sig"),
              help="Answers of one household (object) or several (list) instead of asking.")
@click.option("--village", help="Village code (asked when missing).")
@click.option("--household", help="Household key, unique within the village (asked when missing).")
@click.option("--supersedes", metavar="INSTANCE_ID", help="This visit corrects an earlier one.")
@with_device
def collect(dev, form_id, version, lang, json_file, village, household, supersedes):
    """Record household visits into the outbox: interactively, or from a JSON file.

    A JSON item is either plain answers (village and household from the options, or the
    household key from its household_number answer) or {"village_code", "household_key",
    "answers", "collected_at"?, "supersedes"?}. All items are checked first; if any is
    wrong, every problem is listed and nothing is saved.
    """
    if json_file:
        _collect_json(dev, json_file, form_id, version, lang, village, household, supersedes)
    else:
        _collect_interactive(dev, form_id, version, lang, village, household, supersedes)


def _collect_json(dev, json_file, form_id, version, lang, village, household, supersedes):
    """Queue the visits of a JSON file, all or nothing."""
    try:
        data = json.load(json_file)
    except ValueError as error:
        raise click.ClickException(f"{json_file.name} is not valid JSON: {error}") from error
    items = data if isinstance(data, list) else [data]
    visits = []
    for item in items:
        if not isinstance(item, dict):
            raise click.ClickException(f"{json_file.name}: each household must be a JSON object")
        envelope = item if "answers" in item else {"answers": item}
        answers = envelope.get("answers") if isinstance(envelope.get("answers"), dict) else {}
        visits.append({"answers": answers, "form_id": form_id, "version": version,
                       "village_code": envelope.get("village_code") or village,
                       "household_key": envelope.get("household_key") or household
                       or answers.get("household_number"),
                       "collected_at": envelope.get("collected_at"),
                       "supersedes": envelope.get("supersedes") or supersedes})
    try:
        queued = dev.collect(visits, lang=lang)
    except InvalidVisit as error:
        for problem in error.errors:
            click.echo(f"{json_file.name}: {problem['field']}: {problem.get('message') or problem['code']}", err=True)
        raise click.ClickException(f"{len(error.errors)} problem(s); nothing was saved") from error
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{len(queued)} visit(s) queued; send them with: langso device push")


def _collect_interactive(dev, form_id, version, lang, village, household, supersedes):
    """Ask the form's questions one by one in the terminal, then queue the visit."""
    try:
        form_id, version, definition = dev.form(form_id, version)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    village = village or _ask_village(dev, lang)
    household = household or click.prompt(say("household", lang))
    if household in dev.outbox.household_keys(village) and not click.confirm(
            say("known_household", lang, key=household, village=village), default=False):
        raise click.ClickException(say("discarded", lang))
    interview = Interview(definition, lang=lang)
    started = now_iso()
    for question in interview.questions():
        if question["type"] == "note":
            click.echo(interview.label(question))
            continue
        _ask(interview, question, lang)
        if interview.is_refusal():
            click.echo(say("refusal", lang))
    if not click.confirm(say("confirm", lang), default=True):
        raise click.ClickException(say("discarded", lang))
    try:
        [item] = dev.collect([{"answers": interview.answers, "form_id": form_id, "version": version,
                               "village_code": village, "household_key": household,
                               "collected_at": started, "supersedes": supersedes}], lang=lang)
    except InvalidVisit as error:
        raise click.ClickException("\n".join(f"{e['field']}: {e.get('message')}" for e in error.errors)) from error
    click.echo(say("saved", lang, id=item.instance_id, village=village, key=household))


def _ask_village(dev, lang):
    """Choose a village among those pulled (by number or code)."""
    villages = dev.outbox.villages()
    for number, village in enumerate(villages, start=1):
        click.echo(f"  {number:>3}. {village['code']}  {village['name']}")
    answer = click.prompt(say("village", lang)).strip()
    if answer.isdigit() and 1 <= int(answer) <= len(villages) and answer not in {v["code"] for v in villages}:
        return villages[int(answer) - 1]["code"]
    return answer


def _ask(interview, question, lang):
    """Ask one question until the engine accepts the answer."""
    choices = interview.choices(question)
    prompt = interview.label(question)
    for number, (name, label) in enumerate(choices, start=1):
        prompt += f"\n  {number}. {label} [{name}]"
    if question["type"] == "select_multiple":
        prompt += f"\n  ({say('several', lang)})"
    if not question.get("required"):
        prompt += f" ({say('optional', lang)})"
    while True:
        raw = click.prompt(prompt, default="", show_default=False)
        problems = interview.answer(question, raw)
        if not problems:
            return
        for problem in problems:
            click.secho(f"  ! {problem}", fg="red", err=True)


@device.command()
@click.option("--batch-size", default=DEFAULT_BATCH, show_default=True, help="Visits per request.")
@with_device
def push(dev, batch_size):
    """Send queued visits to the server (gzip, retries; safe to interrupt and run again)."""
    queued = dev.outbox.counts()["queued"]
    if not queued:
        click.echo("Nothing to send.")
        return
    dev.on_retry = lambda attempt, reason, delay: click.echo(
        f"  {reason}; retry {attempt} in {delay:.1f} s", err=True)
    if queued > batch_size:
        with click.progressbar(length=queued, label="Sending", file=sys.stderr) as bar:
            report = dev.push(batch_size, progress=bar.update)
    else:
        report = dev.push(batch_size)
    counts = report.counts
    click.echo(f"{counts.get('accepted', 0)} accepted, {counts.get('duplicate', 0)} already on the server, "
               f"{counts.get('conflict', 0)} conflict(s), {counts.get('rejected', 0)} rejected; "
               f"{report.remaining} still queued")
    if counts.get("rejected"):
        click.echo("See why with: langso device status")
    if report.stopped:
        raise click.ClickException(f"{report.stopped}\nNothing is lost; run `langso device push` again later.")


@device.command()
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_device
def status(dev, output):
    """Counts of queued, sent and rejected visits, and why each rejected one was refused."""
    state = dev.status()
    if output == "json":
        click.echo(json.dumps(state, ensure_ascii=False, indent=2))
        return
    counts = state["counts"]
    click.echo(f"server:   {state['server_url'] or '(not set)'}"
               + (f" as {state['username']}" if state["username"] else "")
               + ("" if state["logged_in"] else " — not logged in"))
    click.echo(f"queued:   {counts['queued']}")
    click.echo(f"sent:     {counts['sent']} ({counts['sent_accepted']} accepted, "
               f"{counts['sent_duplicate']} duplicate, {counts['sent_conflict']} conflict)")
    click.echo(f"rejected: {counts['rejected']}")
    for item in state["rejected"]:
        click.echo(f"  {item['instance_id']}  village {item['village_code']} household {item['household_key']}")
        for problem in item["errors"]:
            click.echo(f"    {problem.get('field')}: {problem.get('message') or problem.get('code')}")
    for item in state["failing"]:
        click.echo(f"  waiting: {item['instance_id']} after {item['attempts']} attempt(s): {item['last_error']}")


@device.command()
@with_device
def reconcile(dev):
    """Ask the server which of this device's visits it holds, and fix the outbox to match."""
    outcome = dev.reconcile()
    click.echo(f"{outcome['known_to_server']} visit(s) known to the server; "
               f"{outcome['requeued']} put back in the queue")


@device.command()
@click.argument("instance_id")
@click.option("--from-json", "json_file", type=click.File("r", encoding="utf-8-sig"), required=True,
              help="The corrected answers (a JSON object).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@with_device
def fix(dev, instance_id, json_file, lang):
    """Queue corrected answers for a rejected visit (the server replaces its quarantined copy)."""
    try:
        answers = json.load(json_file)
        item = dev.fix(instance_id, answers, lang=lang)
    except InvalidVisit as error:
        raise click.ClickException("\n".join(f"{e['field']}: {e.get('message')}" for e in error.errors)) from error
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"correction of {item.instance_id} queued; send it with: langso device push")


COMMANDS = (device,)
