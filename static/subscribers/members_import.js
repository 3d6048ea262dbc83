"use strict";
// A members import's page (subscribers/audience_admin.py): while the worker imports the file,
// fetch its progress every few seconds and move the bar; once it is done, reload the page, which
// then shows the report. The server words every figure (data.text); this file only places them.
// Without JavaScript the page reloads itself (<meta http-equiv="refresh"> in <noscript>).
{
    function setText(root, field, text) {
        root.querySelectorAll(`[data-bell-field="${field}"]`).forEach((element) => {
            if (element.textContent !== text) {
                element.textContent = text;
            }
        });
    }

    function show(root, data) {
        const bar = root.querySelector("progress");
        if (bar) {
            if (data.percent === null) {
                bar.removeAttribute("value"); // no telling yet: the bar is indeterminate
            } else {
                bar.max = 100;
                bar.value = data.percent;
            }
            bar.textContent = data.text.percent;
        }
        setText(root, "percent", data.text.percent);
        setText(root, "phase", data.text.phase);
        setText(root, "status_label", data.status_label);
        root.querySelectorAll(".bell-members-state").forEach((badge) => {
            badge.className = `bell-members-state bell-members-state-${data.status}`;
        });
    }

    function start() {
        const root = document.querySelector("[data-bell-import]");
        if (!root || root.dataset.bellFinished) {
            return;
        }
        window.bellPoll({
            url: root.dataset.bellImport,
            seconds: root.dataset.bellPollSeconds,
            onData: (data) => {
                show(root, data);
                if (data.finished) {
                    window.location.reload();
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
