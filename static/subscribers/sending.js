"use strict";
// An issue's sending page (subscribers/dispatch/pages.py): while the sending runs, fetch its
// numbers every few seconds and write them into the page, so the bar moves without a reload.
// The server formats every figure (data.text); this file only places them. Without JavaScript
// the page shows the numbers as of its loading.
{
    function setText(root, field, text) {
        root.querySelectorAll(`[data-bell-field="${field}"]`).forEach((element) => {
            if (element.textContent !== text) {
                element.textContent = text;
            }
        });
    }

    function show(root, data) {
        const text = data.text;
        const bar = root.querySelector("progress");
        if (bar) {
            bar.max = data.audience || 1;
            bar.value = data.audience ? data.settled : 1;
            bar.textContent = text.percent;
        }
        ["percent", "settled", "audience", "total", "rate", "left", "lag", "issue_status"].forEach((field) =>
            setText(root, field, text[field]),
        );
        setText(root, "state_label", data.state_label);
        setText(root, "last_error", data.last_error);
        root.querySelectorAll('[data-bell-field="last_error_line"]').forEach((line) => {
            line.hidden = !data.last_error;
        });
        Object.entries(text.counts).forEach(([status, count]) => {
            root.querySelectorAll(`[data-bell-count="${status}"]`).forEach((cell) => {
                cell.textContent = count;
            });
        });
        const verdict = root.querySelector('[data-bell-field="verdict"]');
        if (verdict) {
            verdict.textContent = text.verdict;
            verdict.classList.toggle("bell-sending-unbalanced", !data.balanced);
        }
    }

    // The connections' table and the relays' lines, rebuilt from the server's words.
    function showConnections(root, data) {
        const relays = root.querySelector("[data-bell-relays]");
        const body = root.querySelector("[data-bell-connections]");
        if (!relays || !body || !data.relays.length) {
            return;
        }
        relays.replaceChildren(
            ...data.relays.map((relay) => {
                const item = document.createElement("li");
                item.textContent = relay.text;
                return item;
            }),
        );
        body.replaceChildren(
            ...data.connections.map((row) => {
                const line = document.createElement("tr");
                const name = document.createElement("th");
                name.scope = "row";
                name.textContent = row.name;
                line.append(name);
                ["relay", "sent", "refused", "rate", "failures"].forEach((field) => {
                    const cell = document.createElement("td");
                    cell.textContent = row[field];
                    if (field !== "relay") {
                        cell.className = "bell-number";
                    }
                    line.append(cell);
                });
                const error = document.createElement("td");
                if (row.last_error) {
                    const code = document.createElement("code");
                    code.textContent = row.last_error;
                    error.append(code);
                }
                line.append(error);
                return line;
            }),
        );
        body.closest("table").hidden = false;
    }

    function stateChanged(root, data) {
        root.querySelectorAll(".bell-sending-state").forEach((badge) => {
            badge.className = `bell-sending-state bell-sending-state-${data.state}`;
        });
        // The buttons were drawn for the old state: those that no longer apply are disabled.
        root.querySelectorAll("form[data-bell-action]").forEach((form) => {
            if (!data.controls.includes(form.dataset.bellAction)) {
                form.querySelectorAll("button").forEach((button) => {
                    button.disabled = true;
                });
            }
        });
        const note = root.querySelector("[data-bell-stale]");
        if (note) {
            note.hidden = false;
        }
    }

    function newFailures(root, data) {
        const before = Number(root.dataset.bellFailed) || 0;
        const more = data.counts.failed - before;
        const note = document.querySelector("[data-bell-new-failures]");
        if (!note || more <= 0) {
            return;
        }
        note.querySelector("[data-bell-new-failures-count]").textContent = String(more);
        note.hidden = false;
    }

    function start() {
        const root = document.querySelector("[data-bell-sending]");
        if (!root || !root.dataset.bellLive) {
            return;
        }
        window.bellPoll({
            url: root.dataset.bellSending,
            seconds: root.dataset.bellPollSeconds,
            onData: (data) => {
                show(root, data);
                showConnections(root, data);
                newFailures(root, data);
                if (data.state !== root.dataset.bellState || !data.live) {
                    stateChanged(root, data);
                    return false;
                }
                return true;
            },
        });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}
