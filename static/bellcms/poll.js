"use strict";
// Asks a page's JSON address every few seconds while the page is visible, and hands each
// answer to the page's script, which returns false to stop asking. Shared by the live pages
// (the sending page, a members import). Signed out, the admin answers with its login page:
// polling then stops. An answer is never asked for while the previous one is on its way.
window.bellPoll = function bellPoll({ url, seconds, onData }) {
    const every = Math.max(1, Number(seconds) || 2) * 1000;
    let timer = null;
    let busy = false;
    const stop = () => {
        window.clearInterval(timer);
        timer = null;
    };
    const update = () => {
        if (busy || timer === null || document.visibilityState === "hidden") {
            return;
        }
        busy = true;
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then((response) => {
                const type = response.headers.get("Content-Type") || "";
                if (!response.ok || !type.startsWith("application/json")) {
                    stop();
                    return null;
                }
                return response.json();
            })
            .then((data) => {
                if (data && onData(data) === false) {
                    stop();
                }
            })
            .catch(() => null)
            .finally(() => {
                busy = false;
            });
    };
    timer = window.setInterval(update, every);
    document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") {
            update();
        }
    });
    return stop;
};
