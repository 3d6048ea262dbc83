// The unsaved draft of the story editor (issues/drafts.py): sent to the server every few
// seconds while typing and when the page loses focus or closes, and kept as a copy in the
// browser on every change, for a reload that comes before the last draft reached the server
// or a connection that dropped. Opening the story brings back the newer of the two.
import { interpolate, timeOf, translate } from "./text.js";

// Every few seconds while typing: a crash loses at most this much.
const DRAFT_EVERY_MS = 3000;

export class Drafts {
    constructor(editor) {
        this.editor = editor;
        this.url = editor.data.draftUrl;
        this.copyKey = editor.data.copyKey;
        this.dirty = false;
        this.editedAt = "";
        this.saving = null;
    }

    start() {
        setInterval(() => this.dirty && this.save(), DRAFT_EVERY_MS);
        window.addEventListener("pagehide", () => this.save({ leaving: true }));
        document.addEventListener("visibilitychange", () => {
            if (document.visibilityState === "hidden") {
                this.save({ leaving: true });
            }
        });
    }

    changed() {
        this.dirty = true;
        this.editedAt = new Date().toISOString();
        this.writeCopy();
    }

    readCopy() {
        try {
            return JSON.parse(window.localStorage.getItem(this.copyKey) || "null");
        } catch {
            return null;
        }
    }

    writeCopy(extra = {}) {
        try {
            const copy = { savedAt: this.editedAt, baseRevision: this.editor.baseRevision };
            Object.assign(copy, this.editor.content(), { html: this.editor.editor.getHTML() }, extra);
            window.localStorage.setItem(this.copyKey, JSON.stringify(copy));
        } catch {
            // Storage full or refused: the server's draft still holds.
        }
    }

    /** The draft to open the page with: the server's, the browser's copy, or none. */
    newest(data) {
        if (data.bound) {
            // A refused save: the form below holds what was sent, the newest text there is.
            return null;
        }
        const copy = this.readCopy();
        if (copy && copy.submitted && !data.draft) {
            // Sent with a save that went through (a saved story has no server draft).
            window.localStorage.removeItem(this.copyKey);
            return null;
        }
        // Both times are this browser's clock: when the last change each holds was made.
        if (copy && !copy.submitted && (!data.draft || copy.editedAt > (data.draft.editedAt || ""))) {
            this.dirty = true;
            return { ...copy, stale: Boolean(data.draft?.stale) };
        }
        return data.draft;
    }

    restored(draft) {
        this.editedAt = draft.editedAt || "";
    }

    submitted() {
        this.dirty = false;
        this.writeCopy({ submitted: true });
    }

    post(body, { leaving = false } = {}) {
        return this.editor.postJSON(this.url, body, { keepalive: leaving });
    }

    async save({ leaving = false } = {}) {
        if (!this.dirty || (this.saving && !leaving)) {
            return;
        }
        this.dirty = false;
        const status = this.editor.status;
        const content = this.editor.content();
        this.saving = this.post({ baseRevision: this.editor.baseRevision, content }, { leaving });
        try {
            const response = await this.saving;
            const answer = await response.json();
            if (!response.ok) {
                this.dirty = true;
                status.textContent = interpolate(translate("Not kept: %(reason)s"), { reason: answer.error });
                return;
            }
            status.textContent = interpolate(translate("Draft kept at %(time)s"), { time: timeOf(answer.savedAt) });
            const base = this.editor.baseRevision;
            if (answer.revision && base && answer.revision > base) {
                status.textContent += ` · ${translate("someone has saved a newer version: saving will show what changed")}`;
            }
        } catch {
            this.dirty = true;
            status.textContent = translate("Not kept: no connection. Keep this page open.");
        } finally {
            this.saving = null;
        }
    }

    async discard() {
        await this.post({ discard: true });
        this.dirty = false;
        window.localStorage.removeItem(this.copyKey);
        window.location.reload();
    }
}
