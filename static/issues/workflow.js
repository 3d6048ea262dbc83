"use strict";
// The workflow steps above a change form act on what is saved. Once the form below has unsaved
// changes, the steps wait until they are saved, so that no typing is lost to a click on
// "Approve" or "Submit for review".
{
    function panelSteps(panel) {
        return panel.querySelectorAll(".bell-step button, .bell-step summary");
    }

    function holdSteps(panel) {
        panelSteps(panel).forEach((control) => {
            control.setAttribute("disabled", "");
            control.setAttribute("aria-disabled", "true");
        });
        const note = panel.querySelector(".bell-dirty-note");
        if (note) {
            note.hidden = false;
        }
    }

    function watch(panel, form) {
        let held = false;
        const onEdit = (event) => {
            if (held || !form.contains(event.target)) {
                return;
            }
            held = true;
            holdSteps(panel);
        };
        form.addEventListener("input", onEdit);
        form.addEventListener("change", onEdit);
    }

    function start() {
        const panel = document.querySelector("[data-bell-workflow]");
        const form = document.querySelector("#story_form, #issue_form");
        if (!panel || !form) {
            return;
        }
        if (!panel.querySelector(".bell-dirty-note[hidden]")) {
            // The page shows a refused save: the form holds what was not saved.
            holdSteps(panel);
        }
        watch(panel, form);
        // A disabled <summary> still toggles its <details>: stop it while held.
        panel.querySelectorAll(".bell-step summary").forEach((summary) => {
            summary.addEventListener("click", (event) => {
                if (summary.hasAttribute("disabled")) {
                    event.preventDefault();
                }
            });
        });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}

// “Also open by Elena Editor”: the page reports itself now and then, and shows who else has it
// open (issues/admin/presence.py). Only a warning; the revision check prevents lost updates.
{
    function csrfToken() {
        const input = document.querySelector("input[name=csrfmiddlewaretoken]");
        return input ? input.value : "";
    }

    function report(url, leaving) {
        const body = new FormData();
        body.append("csrfmiddlewaretoken", csrfToken());
        if (leaving) {
            body.append("leave", "1");
            navigator.sendBeacon(url, body);
            return Promise.resolve(null);
        }
        return fetch(url, { method: "POST", body, credentials: "same-origin" })
            .then((response) => (response.ok ? response.json() : null))
            .catch(() => null);
    }

    function start() {
        const line = document.querySelector("[data-bell-presence]");
        if (!line) {
            return;
        }
        const url = line.dataset.bellPresence;
        const every = Math.max(5, Number(line.dataset.bellPollSeconds) || 20) * 1000;
        const update = () =>
            report(url, false).then((answer) => {
                if (answer) {
                    line.textContent = answer.sentence;
                    line.hidden = !answer.sentence;
                }
            });
        let timer = window.setInterval(update, every);
        document.addEventListener("visibilitychange", () => {
            if (document.visibilityState === "visible") {
                update();
            }
        });
        window.addEventListener("pagehide", () => {
            window.clearInterval(timer);
            report(url, true);
        });
        window.addEventListener("pageshow", (event) => {
            if (event.persisted) {
                timer = window.setInterval(update, every);
                update();
            }
        });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}
