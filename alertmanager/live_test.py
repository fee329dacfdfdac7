#!/usr/bin/env python3
"""Check routing, inhibition and notification texts on a real Alertmanager.

Starts the Alertmanager binary given as the first argument (Debian's 0.25 in
CI) on free loopback ports with alertmanager.yml, its webhook URLs pointed
at a recorder in this script, plus an email to an SMTP sink in this script
for the Pizhou team, so that templates/minewatch.tmpl renders real alerts.
Posts alerts, then asserts which receiver got which alert, which alert is
inhibited, and what the email says. Exits non-zero on the first failure.
"""
import http.server
import json
import os
import re
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEADLINE_SECONDS = 90


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """Webhook bodies by receiver path, and raw email messages."""

    def __init__(self):
        self.lock = threading.Lock()
        self.webhooks = {}
        self.emails = []

    def add_webhook(self, receiver, body):
        with self.lock:
            self.webhooks.setdefault(receiver, []).append(body)

    def add_email(self, message):
        with self.lock:
            self.emails.append(message)


def webhook_server(recorder, port):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            recorder.add_webhook(self.path.rsplit("/", 1)[-1], json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def smtp_server(recorder, port):
    """A minimal SMTP sink: accepts every message without TLS or auth."""

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line):
            self.wfile.write((line + "\r\n").encode())

        def handle(self):
            self.reply("220 sink ESMTP")
            data = None
            for raw in self.rfile:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if data is not None:
                    if line == ".":
                        recorder.add_email("\n".join(data))
                        data = None
                        self.reply("250 queued")
                    else:
                        data.append(line[1:] if line.startswith("..") else line)
                    continue
                verb = line.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    self.reply("250-sink")
                    self.reply("250 8BITMIME")
                elif verb == "DATA":
                    data = []
                    self.reply("354 end with .")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 ok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_config(webhook_port, smtp_port):
    with open(os.path.join(HERE, "alertmanager.yml"), encoding="utf-8") as f:
        text = f.read().replace("127.0.0.1:9097", "127.0.0.1:%d" % webhook_port)
    config = yaml.safe_load(text)
    config["templates"] = [os.path.join(HERE, "templates", "*.tmpl")]
    for receiver in config["receivers"]:
        if receiver["name"] == "pizhou-coal-team":
            receiver["email_configs"] = [{
                "to": "pizhou-coal-team@example.org",
                "from": "minewatch@example.org",
                "smarthost": "127.0.0.1:%d" % smtp_port,
                "require_tls": False,
                "send_resolved": False,
                "headers": {"Subject": '{{ template "minewatch.title" . }}'},
                "html": '{{ template "minewatch.html" . }}',
                "text": '{{ template "minewatch.text" . }}',
            }]
    return yaml.safe_dump(config, allow_unicode=True)


def alert(labels, annotations):
    return {"labels": labels, "annotations": annotations}


MINE_101 = {"mine_id": "320382000101", "mine_name": "示例一号煤矿", "city": "徐州市", "county": "邳州市"}


def face_alert(severity, area, persons, limit):
    labels = dict(MINE_101, alertname="overcrowding_area", violation="overcrowding_area",
                  severity=severity, area=area, area_type="key")
    return alert(labels, {
        "summary_zh": "示例一号煤矿（320382000101）区域 %s 超员" % area,
        "description_zh": "区域 %s（key）现有 %d 人，核定 %d 人。" % (area, persons, limit),
        "summary": "Too many persons in area %s at 示例一号煤矿 (320382000101)" % area,
        "description": "%d persons are in area %s (key); its limit is %d." % (persons, area, limit),
        "runbook_url": "https://minewatch.example/docs/rules#overcrowding_area",
    })


ALERTS = [
    face_alert("critical", "3203820001010004", 20, 16),
    face_alert("warning", "3203820001010004", 20, 16),
    face_alert("warning", "3203820001010007", 13, 12),
    # A mine missing from the registry: no city, no county.
    alert({"alertname": "person_sos", "violation": "person_sos", "severity": "critical",
           "mine_id": "320382000303", "mine_name": "320382000303", "card": "32038200030300007"},
          {"summary": "Person underground calls for help"}),
    alert(dict(alertname="data_silent", violation="data_silent", severity="warning",
               mine_id="320382000505", mine_name="示例五号煤矿", city="宿迁市", county="泗洪县",
               feed="RYSS"), {"summary": "No RYSS data"}),
]


def wait_for(description, check):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError("timed out after %ds waiting for %s" % (DEADLINE_SECONDS, description))


def http_json(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def received(recorder, receiver):
    """Alerts (by area or mine_id) that the receiver got as firing."""
    with recorder.lock:
        bodies = list(recorder.webhooks.get(receiver, []))
    keys = set()
    for body in bodies:
        for a in body["alerts"]:
            if a["status"] == "firing":
                keys.add(a["labels"].get("area") or a["labels"]["mine_id"])
    return keys


def main():
    binary = sys.argv[1]
    recorder = Recorder()
    webhook_port, smtp_port, am_port = free_port(), free_port(), free_port()
    webhook_server(recorder, webhook_port)
    smtp_server(recorder, smtp_port)
    failures = 0

    with tempfile.TemporaryDirectory() as tmp:
        config_path = os.path.join(tmp, "alertmanager.yml")
        with open(config_path, "w", encoding="utf-8") as f:
            f.write(test_config(webhook_port, smtp_port))
        log = open(os.path.join(tmp, "alertmanager.log"), "w")
        proc = subprocess.Popen([
            binary, "--config.file=" + config_path, "--storage.path=" + os.path.join(tmp, "data"),
            "--web.listen-address=127.0.0.1:%d" % am_port, "--cluster.listen-address=",
        ], stdout=log, stderr=subprocess.STDOUT)
        base = "http://127.0.0.1:%d" % am_port
        try:
            wait_for("Alertmanager ready on " + base, lambda: ready(base))
            http_json(base + "/api/v2/alerts", ALERTS)

            checks = [
                ("pizhou-coal-team gets both face alerts",
                 lambda: received(recorder, "pizhou-coal-team") >= {"3203820001010004", "3203820001010007"}),
                ("province-duty gets the unregistered mine",
                 lambda: received(recorder, "province-duty") == {"320382000303"}),
                ("sihong-coal-team gets the Sihong mine",
                 lambda: received(recorder, "sihong-coal-team") == {"320382000505"}),
            ]
            for name, check in checks:
                failures += run(name, lambda: wait_for(name, check))

            def inhibited():
                out = {}
                for a in http_json(base + "/api/v2/alerts?inhibited=true"):
                    key = (a["labels"].get("area", a["labels"]["mine_id"]), a["labels"]["severity"])
                    out[key] = bool(a["status"]["inhibitedBy"])
                return out if len(out) == len(ALERTS) else None

            state = wait_for("all alerts listed", inhibited)
            failures += run("critical inhibits warning of the same area", lambda: expect(
                state[("3203820001010004", "warning")], True))
            failures += run("critical does not inhibit another area", lambda: expect(
                state[("3203820001010007", "warning")], False))
            failures += run("critical itself is not inhibited", lambda: expect(
                state[("3203820001010004", "critical")], False))

            email = wait_for("an email to pizhou-coal-team", lambda: first_email(recorder))
            for needle in ["示例一号煤矿（320382000101）", "overcrowding_area", "现有 13 人，核定 12 人",
                           "13 persons are in area 3203820001010007 (key); its limit is 12.",
                           "/d/minewatch-mine/mine?var-mine_id=320382000101", "地区：徐州市 邳州市"]:
                failures += run("email says " + needle, lambda: expect(needle in email, True))
            zh = email.find("示例一号煤矿（320382000101）区域")
            en = email.find("Too many persons in area")
            failures += run("email gives Chinese before English", lambda: expect(0 <= zh < en, True))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            if failures:
                log.flush()
                with open(log.name, encoding="utf-8") as f:
                    sys.stdout.write(f.read()[-3000:])
    print("live alertmanager: %d failed" % failures)
    return 1 if failures else 0


def ready(base):
    try:
        with urllib.request.urlopen(base + "/-/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def first_email(recorder):
    with recorder.lock:
        if not recorder.emails:
            return None
        message = recorder.emails[0]
    return decode_email(message)


def decode_email(message):
    """Decode the MIME parts, so assertions see text and not base64."""
    import email
    import email.policy
    parsed = email.message_from_string(message, policy=email.policy.default)
    parts = [str(parsed["Subject"])]
    for part in parsed.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def expect(got, want):
    if got != want:
        raise AssertionError("got %r, want %r" % (got, want))


def run(name, check):
    try:
        check()
    except AssertionError as e:
        print("FAIL  %s: %s" % (name, e))
        return 1
    print("ok    %s" % name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
