#!/usr/bin/env python3
"""Exercises deploy/nats/auth.conf against a real nats-server, offline.

Starts a throw-away nats-server on a free loopback port with JetStream and the
users of auth.conf, then replays, as each service's user, the NATS and
JetStream API traffic the service really produces (the subjects async-nats 0.51
uses), and checks that what the service must not do is refused:

  command-api  creates stream FLOW and the bucket FLOW_IDEMPOTENCY, publishes
               single events and an atomic batch, hears the thread events on a
               core subscription, reads with direct gets,
               creates and updates the durable consumer "moderator", pulls and
               acknowledges;
  projector    updates stream FLOW, creates, updates and resets the durable
               consumer "projector", pulls, acknowledges, reads by sequence,
               announces its position, answers a control request (and sends
               one, as its command line does), and rebuilds through an ordered
               consumer that it creates, pulls from, deletes and re-creates;
  query-api    receives that announcement and may publish nothing.

Usage: check-permissions.py <nats-server binary> <auth.conf>
Needs nats-py. Exits non-zero with a list of findings on any problem.
"""

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import nats
from nats.errors import TimeoutError as NatsTimeout

PASSWORDS = {
    "command-api": "COMMAND_API_NATS_PASSWORD",
    "projector": "PROJECTOR_NATS_PASSWORD",
    "query-api": "QUERY_API_NATS_PASSWORD",
}
SECOND = 1_000_000_000  # JetStream durations are nanoseconds

STREAM_CONFIG = {
    "name": "FLOW",
    "description": "Projects Flow events: the source of truth",
    "subjects": ["flow.evt.>"],
    "storage": "file",
    "retention": "limits",
    "num_replicas": 1,
    "duplicate_window": 120 * SECOND,
    "allow_atomic": True,
    "allow_direct": True,
    "deny_delete": True,
    "deny_purge": True,
}
KV_STREAM_CONFIG = {
    "name": "KV_FLOW_IDEMPOTENCY",
    "subjects": ["$KV.FLOW_IDEMPOTENCY.>"],
    "storage": "file",
    "max_msgs_per_subject": 1,
    "max_age": 24 * 3600 * SECOND,
    "discard": "new",
    "allow_direct": True,
    "allow_rollup_hdrs": True,
    "deny_delete": True,
    "num_replicas": 1,
}

findings: list[str] = []


def fail(message: str) -> None:
    findings.append(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One service's connection, recording the permission errors it gets."""

    def __init__(self, user: str):
        self.user = user
        self.errors: list[str] = []
        self.nc = None

    async def connect(self, url: str, password: str) -> None:
        async def on_error(err):
            self.errors.append(str(err))

        self.nc = await nats.connect(
            servers=[url],
            user=self.user,
            password=password,
            name=self.user,
            error_cb=on_error,
            allow_reconnect=False,
            connect_timeout=2,
        )

    def violations(self) -> list[str]:
        # nats-py lower-cases the server's -ERR text.
        return [e.lower() for e in self.errors if "permissions" in e.lower()]

    async def settle(self) -> list[str]:
        """Round-trips to the server so that every -ERR it sent has arrived."""
        await self.nc.flush(timeout=2)
        await asyncio.sleep(0.05)
        found = self.violations()
        self.errors.clear()
        return found

    async def api(self, subject: str, body=None, *, expect_ok=True, headers=None):
        """A request that must pass the permissions; returns the decoded answer."""
        payload = b"" if body is None else json.dumps(body).encode()
        try:
            msg = await self.nc.request(subject, payload, timeout=2, headers=headers)
        except NatsTimeout:
            fail(f"{self.user}: no answer on {subject} ({self.violations() or 'timeout'})")
            self.errors.clear()
            return None
        if msg.headers and msg.headers.get("Status") and not msg.data:
            status = msg.headers.get("Status")
            if expect_ok:
                fail(f"{self.user}: {subject} answered status {status} {msg.headers.get('Description', '')}")
            return msg
        if not msg.data:
            return msg
        try:
            answer = json.loads(msg.data)
        except ValueError:
            return msg  # a stored message from a direct get
        if expect_ok and isinstance(answer, dict) and answer.get("error"):
            fail(f"{self.user}: {subject} answered {answer['error']}")
        return answer

    async def allowed_publish(self, subject: str, payload=b"", headers=None) -> None:
        await self.nc.publish(subject, payload, headers=headers)
        if denied := await self.settle():
            fail(f"{self.user}: publishing to {subject} was refused: {denied}")

    async def denied_publish(self, subject: str) -> None:
        await self.nc.publish(subject, b"{}")
        if not any(f'publish to "{subject.lower()}"' in e for e in await self.settle()):
            fail(f"{self.user}: publishing to {subject} must be refused but was not")

    async def denied_subscribe(self, subject: str) -> None:
        sub = await self.nc.subscribe(subject)
        found = await self.settle()
        await sub.unsubscribe()
        if not any(f'subscription to "{subject.lower()}"' in e for e in found):
            fail(f"{self.user}: subscribing to {subject} must be refused but was not")

    async def pull_one(self, consumer: str):
        """Pulls one message from consumer on FLOW and acknowledges it."""
        inbox = self.nc.new_inbox()
        sub = await self.nc.subscribe(inbox)
        await self.nc.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.FLOW.{consumer}",
            json.dumps({"batch": 1, "expires": 2 * SECOND}).encode(),
            reply=inbox,
        )
        try:
            msg = await sub.next_msg(timeout=3)
        except NatsTimeout:
            fail(f"{self.user}: pulling from {consumer} got nothing ({await self.settle()})")
            return None
        finally:
            await sub.unsubscribe()
        if not (msg.reply or "").startswith(f"$JS.ACK.FLOW.{consumer}."):
            fail(f"{self.user}: pulled no stream message from {consumer}: {msg.headers} {msg.data[:80]!r}")
            return None
        await self.allowed_publish(msg.reply, b"+ACK")
        return msg


def consumer_request(name: str, filter_subject: str, action: str, **extra) -> dict:
    config = {
        "durable_name": name,
        "filter_subject": filter_subject,
        "deliver_policy": "all",
        "ack_policy": "explicit",
        "ack_wait": 30 * SECOND,
        **extra,
    }
    return {"stream_name": "FLOW", "config": config, "action": action}


async def command_api(c: Client) -> None:
    await c.api("$JS.API.INFO")
    # create_or_update_stream: update, and create when it does not exist yet.
    await c.api("$JS.API.STREAM.UPDATE.FLOW", STREAM_CONFIG, expect_ok=False)
    await c.api("$JS.API.STREAM.CREATE.FLOW", STREAM_CONFIG)
    await c.api("$JS.API.STREAM.INFO.FLOW")
    await c.api("$JS.API.STREAM.UPDATE.KV_FLOW_IDEMPOTENCY", KV_STREAM_CONFIG, expect_ok=False)
    await c.api("$JS.API.STREAM.CREATE.KV_FLOW_IDEMPOTENCY", KV_STREAM_CONFIG)
    await c.api("$JS.API.STREAM.INFO.KV_FLOW_IDEMPOTENCY")

    # A single event with optimistic concurrency, then an atomic batch.
    ack = await c.api(
        "flow.evt.project.p1",
        {"event": "ProjectProposed"},
        headers={"Nats-Msg-Id": "e1", "Nats-Expected-Last-Subject-Sequence": "0"},
    )
    if not (isinstance(ack, dict) and ack.get("seq") == 1):
        fail(f"command-api: publishing an event was not stored: {ack}")
    threads_heard = await c.nc.subscribe("flow.evt.thread.*")
    if denied := await c.settle():
        fail(f"command-api: subscribing to the thread events was refused: {denied}")
    await c.allowed_publish(
        "flow.evt.name.n1",
        b'{"event": "NameClaimed"}',
        headers={"Nats-Msg-Id": "e2", "Nats-Batch-Id": "b1", "Nats-Batch-Sequence": "1"},
    )
    ack = await c.api(
        "flow.evt.thread.t1",
        {"event": "ThreadStarted"},
        headers={
            "Nats-Msg-Id": "e3",
            "Nats-Batch-Id": "b1",
            "Nats-Batch-Sequence": "2",
            "Nats-Batch-Commit": "1",
        },
    )
    if not (isinstance(ack, dict) and ack.get("seq") == 3):
        fail(f"command-api: the atomic batch was not stored: {ack}")
    try:
        await threads_heard.next_msg(timeout=3)
    except NatsTimeout:
        fail("command-api: the thread event was not heard on its subscription")
    await threads_heard.unsubscribe()
    await c.denied_subscribe("flow.evt.vote.>")

    # Loading an aggregate: first, next and last message of its subject.
    await c.api("$JS.API.DIRECT.GET.FLOW", {"next_by_subj": "flow.evt.project.p1", "seq": 1})
    await c.api("$JS.API.DIRECT.GET.FLOW.flow.evt.project.p1")

    # Idempotency-Key records: create (expected revision 0) and read back.
    ack = await c.api(
        "$KV.FLOW_IDEMPOTENCY.k1",
        {"state": "pending"},
        headers={"Nats-Expected-Last-Subject-Sequence": "0"},
    )
    if not (isinstance(ack, dict) and ack.get("stream") == "KV_FLOW_IDEMPOTENCY"):
        fail(f"command-api: the idempotency record was not stored: {ack}")
    await c.api("$JS.API.DIRECT.GET.KV_FLOW_IDEMPOTENCY.$KV.FLOW_IDEMPOTENCY.k1")
    await c.api("$JS.API.STREAM.MSG.GET.KV_FLOW_IDEMPOTENCY", {"last_by_subj": "$KV.FLOW_IDEMPOTENCY.k1"})

    # The moderator's durable consumer: look it up, create it, update it, pull.
    await c.api("$JS.API.CONSUMER.INFO.FLOW.moderator", expect_ok=False)
    subject = "$JS.API.CONSUMER.CREATE.FLOW.moderator.flow.evt.thread.>"
    await c.api(subject, consumer_request("moderator", "flow.evt.thread.>", "create", max_deliver=20))
    await c.api(subject, consumer_request("moderator", "flow.evt.thread.>", "update", max_deliver=20))
    await c.api("$JS.API.CONSUMER.INFO.FLOW.moderator")
    await c.pull_one("moderator")

    # What it must not do.
    for subject in (
        "$JS.API.STREAM.DELETE.FLOW",
        "$JS.API.STREAM.PURGE.FLOW",
        "$JS.API.STREAM.MSG.DELETE.FLOW",
        "$JS.API.STREAM.MSG.GET.FLOW",
        "$JS.API.STREAM.DELETE.KV_FLOW_IDEMPOTENCY",
        "$JS.API.STREAM.PURGE.KV_FLOW_IDEMPOTENCY",
        "$JS.API.CONSUMER.DELETE.FLOW.moderator",
        "$JS.API.CONSUMER.CREATE.FLOW.projector.flow.evt.>",
        "$JS.API.CONSUMER.RESET.FLOW.projector",
        "$JS.API.CONSUMER.MSG.NEXT.FLOW.projector",
        "$JS.ACK.FLOW.projector.1.1.1.1.0",
        "$JS.API.STREAM.CREATE.OTHER",
        "flow.projector.position",
        "flow.projector.control",
        "$JS.API.CONSUMER.CREATE.FLOW",
        "$JS.API.CONSUMER.DELETE.FLOW.moderator",
        "other.subject",
    ):
        await c.denied_publish(subject)
    await c.denied_subscribe("flow.evt.>")
    await c.denied_subscribe("flow.projector.position")


async def control_plane(server: Client, cli: Client) -> None:
    """The running projector answers flow.projector.control; its command line asks."""
    requests = await server.nc.subscribe("flow.projector.control")
    if denied := await server.settle():
        fail(f"projector: subscribing to flow.projector.control was refused: {denied}")
        return

    async def answer():
        msg = await requests.next_msg(timeout=3)
        await server.nc.publish(msg.reply, b'{"parked": []}')

    answering = asyncio.create_task(answer())
    try:
        reply = await cli.nc.request("flow.projector.control", b'{"command": "parked"}', timeout=3)
        if json.loads(reply.data) != {"parked": []}:
            fail(f"projector: unexpected control answer {reply.data!r}")
    except NatsTimeout:
        fail(f"projector: a control request got no answer ({await server.settle()} {await cli.settle()})")
    finally:
        answering.cancel()
        await requests.unsubscribe()
    if denied := await server.settle():
        fail(f"projector: answering a control request was refused: {denied}")


async def rebuild(c: Client) -> None:
    """An ordered consumer as async-nats makes one: nameless first, named after a gap."""
    config = {
        "deliver_policy": "all",
        "ack_policy": "none",
        "filter_subject": "flow.evt.>",
        "max_deliver": 1,
        "mem_storage": True,
        "num_replicas": 1,
        "inactive_threshold": 300 * SECOND,
    }
    created = await c.api("$JS.API.CONSUMER.CREATE.FLOW", {"stream_name": "FLOW", "config": config})
    name = created.get("name") if isinstance(created, dict) else None
    if not name:
        fail(f"projector: could not create the rebuild's ordered consumer: {created}")
        return
    await pull_unacked(c, name)
    await c.api(f"$JS.API.CONSUMER.DELETE.FLOW.{name}")
    renamed = f"{name}_1"
    await c.api(
        f"$JS.API.CONSUMER.CREATE.FLOW.{renamed}.flow.evt.>",
        {"stream_name": "FLOW", "config": {**config, "name": renamed}, "action": "create"},
    )
    await pull_unacked(c, renamed)
    await c.api(f"$JS.API.CONSUMER.DELETE.FLOW.{renamed}")
    # The nameless subject cannot be used to make a durable consumer.
    answer = await c.api(
        "$JS.API.CONSUMER.CREATE.FLOW",
        {"stream_name": "FLOW", "config": {**config, "durable_name": "intruder"}},
        expect_ok=False,
    )
    if not (isinstance(answer, dict) and answer.get("error")):
        fail("projector: the nameless consumer subject accepted a durable consumer")


async def pull_unacked(c: Client, consumer: str) -> None:
    inbox = c.nc.new_inbox()
    sub = await c.nc.subscribe(inbox)
    await c.nc.publish(
        f"$JS.API.CONSUMER.MSG.NEXT.FLOW.{consumer}",
        json.dumps({"batch": 1, "expires": 2 * SECOND}).encode(),
        reply=inbox,
    )
    try:
        msg = await sub.next_msg(timeout=3)
        if not msg.data or (msg.headers or {}).get("Status"):
            fail(f"projector: the rebuild's consumer {consumer} delivered no event: {msg.headers}")
    except NatsTimeout:
        fail(f"projector: pulling from the rebuild's consumer {consumer} got nothing ({await c.settle()})")
    finally:
        await sub.unsubscribe()


async def projector(c: Client, q: Client, cli: Client) -> None:
    await c.api("$JS.API.STREAM.UPDATE.FLOW", STREAM_CONFIG)
    await c.api("$JS.API.STREAM.INFO.FLOW")
    await c.api("$JS.API.CONSUMER.INFO.FLOW.projector", expect_ok=False)
    subject = "$JS.API.CONSUMER.CREATE.FLOW.projector.flow.evt.>"
    await c.api(subject, consumer_request("projector", "flow.evt.>", "create", ack_policy="all", max_ack_pending=2000))
    await c.api(subject, consumer_request("projector", "flow.evt.>", "update", ack_policy="all", max_ack_pending=2000))
    await c.api("$JS.API.CONSUMER.RESET.FLOW.projector", {"seq": 2})
    msg = await c.pull_one("projector")
    # The ack subject is $JS.ACK.FLOW.projector.<delivered>.<stream seq>.<consumer seq>...
    if msg is not None and msg.reply.split(".")[5] != "2":
        fail(f"projector: after a reset to 2 the first message was {msg.reply}")
    await c.api("$JS.API.DIRECT.GET.FLOW", {"seq": 1})

    # The position announcement reaches query-api.
    sub = await q.nc.subscribe("flow.projector.position")
    if denied := await q.settle():
        fail(f"query-api: subscribing to flow.projector.position was refused: {denied}")
    await c.allowed_publish("flow.projector.position", b'{"position": 3, "stream_last": 3}')
    try:
        await sub.next_msg(timeout=2)
    except NatsTimeout:
        fail("query-api: the position announcement did not arrive")
    await sub.unsubscribe()

    await control_plane(c, cli)
    await rebuild(c)

    # The instances' lease: account info (the key-value client asks for it)
    # and the lease bucket, nothing else of the key-value store.
    await c.api("$JS.API.INFO")
    await c.api("$JS.API.STREAM.INFO.KV_projector_lease_flow", expect_ok=False)
    for subject in (
        "flow.evt.project.p2",
        "$KV.FLOW_IDEMPOTENCY.k2",
        "$KV.another_bucket.k2",
        "$JS.API.CONSUMER.CREATE.FLOW.moderator",
        "$JS.API.CONSUMER.INFO.FLOW.moderator",
        "$JS.API.CONSUMER.DELETE.FLOW.moderator",
        "$JS.API.CONSUMER.DELETE.FLOW.projector",
        "$JS.API.CONSUMER.RESET.FLOW.moderator",
        "$JS.API.CONSUMER.DURABLE.CREATE.FLOW.moderator",
        "$JS.ACK.FLOW.moderator.1.1.1.1.0",
        "_INBOX.not-a-reply",
        "$JS.API.STREAM.DELETE.FLOW",
        "$JS.API.STREAM.PURGE.FLOW",
        "$JS.API.CONSUMER.DELETE.FLOW.projector",
        "$JS.API.CONSUMER.CREATE.FLOW.moderator.flow.evt.thread.>",
        "$JS.API.CONSUMER.MSG.NEXT.FLOW.moderator",
        "$JS.API.DIRECT.GET.KV_FLOW_IDEMPOTENCY.$KV.FLOW_IDEMPOTENCY.k1",
    ):
        await c.denied_publish(subject)
    await c.denied_subscribe("flow.evt.>")


async def query_api(q: Client) -> None:
    for subject in (
        "flow.evt.project.p3",
        "flow.projector.position",
        "$JS.API.INFO",
        "$JS.API.STREAM.INFO.FLOW",
        "$JS.API.DIRECT.GET.FLOW",
        "$KV.FLOW_IDEMPOTENCY.k3",
        "flow.projector.control",
        "_INBOX.not-a-reply",
    ):
        await q.denied_publish(subject)
    await q.denied_subscribe("flow.projector.control")
    await q.denied_subscribe("flow.evt.>")
    await q.denied_subscribe("$KV.FLOW_IDEMPOTENCY.>")


async def wrong_password(url: str) -> None:
    async def quiet(_err):
        pass

    try:
        nc = await nats.connect(
            servers=[url], user="query-api", password="wrong", allow_reconnect=False,
            connect_timeout=2, max_reconnect_attempts=0, error_cb=quiet,
        )
    except Exception:
        return
    await nc.close()
    fail("a wrong password was accepted")


async def run(url: str, env: dict) -> None:
    clients = {user: Client(user) for user in PASSWORDS}
    for user, client in clients.items():
        await client.connect(url, env[PASSWORDS[user]])
    cli = Client("projector")  # the projector's command line, a second connection
    await cli.connect(url, env[PASSWORDS["projector"]])
    try:
        await command_api(clients["command-api"])
        await projector(clients["projector"], clients["query-api"], cli)
        await query_api(clients["query-api"])
        await wrong_password(url)
    finally:
        for client in (*clients.values(), cli):
            await client.nc.close()


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    server, auth_conf = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="flow-nats-perms-")
    port = free_port()
    env = dict(os.environ)
    for var in PASSWORDS.values():
        env[var] = f"test-{var.lower()}"
    shutil.copy(auth_conf, os.path.join(work, "auth.conf"))
    with open(os.path.join(work, "server.conf"), "w") as f:
        f.write(
            f'listen: "127.0.0.1:{port}"\n'
            f'jetstream {{ store_dir: "{work}/js", max_memory_store: 16MB, max_file_store: 64MB }}\n'
            "include ./auth.conf\n"
        )
    log = open(os.path.join(work, "server.log"), "w")
    proc = subprocess.Popen([server, "-c", os.path.join(work, "server.conf")], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    print(open(os.path.join(work, "server.log")).read(), file=sys.stderr)
                    print("nats-server did not start with auth.conf", file=sys.stderr)
                    return 1
                time.sleep(0.05)
        asyncio.run(asyncio.wait_for(run(f"nats://127.0.0.1:{port}", env), timeout=60))
    except Exception as err:  # an unexpected failure is a finding too
        fail(f"permission check aborted: {type(err).__name__}: {err}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    for finding in findings:
        print(f"nats permissions: {finding}", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
