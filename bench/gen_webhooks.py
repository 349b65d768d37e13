#!/usr/bin/env python3
"""Writes N WhatsApp Cloud API webhook bodies (JSON Lines) for the import benchmark.

Usage: gen_webhooks.py N OUT.jsonl [SEED]

A new conversation starts every 6 seconds from a pool of 200,000 customers; each is a customer
message, a bot reply (sent, delivered, read statuses), a list reply, an agent reply and, for
one in five, a last customer message nobody answers (the thread stays open). One send in fifty
fails with 131047. Every `sent` status carries per-message pricing (`billable`, category), and
one thread in ten has a customer call in the thread (`field: calls`, a connect and a terminate;
half of them answered); set CALLS=0 for the stream without calls. Bodies are written in time order, with statuses up to a minute late, so the
number of threads open at once stays constant while the input grows.
"""
import heapq
import os
import random
import sys

PHONE = "1122334455667"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def envelope(value: str, field: str = "messages") -> str:
    return (
        '{"object":"whatsapp_business_account","entry":[{"id":"880000000000001","changes":[{"field":"' + field + '",'
        '"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000000",'
        f'"phone_number_id":"{PHONE}"}},{value}}}}}]}}]}}'
    )


def message(customer: str, mid: str, t: int, kind: str) -> str:
    if kind == "interactive":
        body = '"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"billing","title":"Billing"}}'
    else:
        body = '"type":"text","text":{"body":"hello, my order has not arrived yet"}'
    return envelope(
        f'"contacts":[{{"profile":{{"name":"C"}},"wa_id":"{customer}"}}],'
        f'"messages":[{{"from":"{customer}","id":"{mid}","timestamp":"{t}",{body}}}]'
    )


def status(customer: str, mid: str, t: int, state: str, sender: str) -> str:
    extra = ""
    if state == "failed":
        extra = ',"errors":[{"code":131047,"title":"Re-engagement message"}]'
    elif state == "sent":
        extra = ',"pricing":{"billable":true,"pricing_model":"PMP","category":"service","type":"free_customer_service"}'
    return envelope(
        f'"statuses":[{{"id":"{mid}","status":"{state}","timestamp":"{t}","recipient_id":"{customer}",'
        f'"biz_opaque_callback_data":"sender={sender}"{extra}}}]'
    )


def call(customer: str, cid: str, t: int, answered: bool, duration: int) -> list:
    """A customer call: its connect at t, and its terminate."""
    contact = f'"contacts":[{{"profile":{{"name":"C"}},"wa_id":"{customer}"}}],'
    connect = envelope(
        contact + f'"calls":[{{"id":"{cid}","from":"{customer}","to":"15550000000","event":"connect",'
        f'"timestamp":"{t}","direction":"USER_INITIATED","session":{{"sdp_type":"offer","sdp":"v=0"}}}}]',
        "calls",
    )
    if answered:
        end = t + 5 + duration
        terminate = (
            f'"id":"{cid}","from":"{customer}","to":"15550000000","event":"terminate","timestamp":"{end}",'
            f'"direction":"USER_INITIATED","status":"COMPLETED","start_time":"{t + 5}","end_time":"{end}",'
            f'"duration":{duration},"biz_opaque_callback_data":"agent=a1"'
        )
    else:
        end = t + 30
        terminate = (
            f'"id":"{cid}","from":"{customer}","to":"15550000000","event":"terminate","timestamp":"{end}",'
            f'"direction":"USER_INITIATED","status":"FAILED"'
        )
    return [(t, connect), (end, envelope(contact + f'"calls":[{{{terminate}}}]', "calls"))]


def main() -> int:
    calls = os.environ.get("CALLS", "1") != "0"
    n = int(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    heap: list = []
    written = 0
    conversation = 0
    start = T0
    seq = 0
    with open(out, "w", buffering=1 << 20) as f:
        while written < n:
            # Schedule the next conversation's events.
            c = f"1555{rng.randrange(200_000):07d}"
            k = conversation
            conversation += 1
            t = start
            start += 6
            events = [(t, message(c, f"wamid.{k}.1", t, "text"))]
            t += rng.randrange(1, 5)
            fails = rng.random() < 0.02
            states = ["failed"] if fails else ["sent", "delivered", "read"]
            for j, state in enumerate(states):
                events.append((t + j * rng.randrange(0, 60), status(c, f"wamid.{k}.2", t + j, state, "bot")))
            t += rng.randrange(20, 120)
            events.append((t, message(c, f"wamid.{k}.3", t, "interactive")))
            t += rng.randrange(60, 1800)
            for j, state in enumerate(["sent", "delivered"]):
                events.append((t + j * rng.randrange(0, 60), status(c, f"wamid.{k}.4", t + j, state, "agent")))
            if calls and rng.random() < 0.1:
                answered = rng.random() < 0.5
                events.extend(call(c, f"wacid.{k}", t + rng.randrange(5, 60), answered, rng.randrange(30, 600)))
            if rng.random() < 0.2:
                t += rng.randrange(60, 600)
                events.append((t, message(c, f"wamid.{k}.5", t, "text")))
            for arrival, line in events:
                heapq.heappush(heap, (arrival, seq, line))
                seq += 1
            # Everything that arrives before the next conversation starts can be written.
            while heap and heap[0][0] < start and written < n:
                f.write(heapq.heappop(heap)[2])
                f.write("\n")
                written += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
