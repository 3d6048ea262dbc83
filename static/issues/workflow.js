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
