// The story editor: one flowing document over the story's blocks (see issues/admin/editor.py).
// Headline, then sub-headings, paragraphs and bullet lists typed as in any word processor;
// what is typed is kept as an unsaved draft every few seconds and when the page loses focus,
// and written back into the block form when the story is saved.
import { Editor, Extension, pm } from "../../django_prose_editor/editor.js";
import { blocksHTML, documentBlocks, fingerprints, writeForm } from "./form.js";
import { linkAllowed } from "./markdown.js";
import { cleanPastedHTML } from "./paste.js";
import { Preview } from "./preview.js";
import { extensions } from "./schema.js";

const translate = typeof window.gettext === "function" ? window.gettext : (text) => text;
const interpolate =
    typeof window.interpolate === "function"
        ? window.interpolate
        : (text, values) => text.replace(/%\((\w+)\)s/g, (m, key) => values[key]);
// Every few seconds while typing: a crash loses at most this much.
const DRAFT_EVERY_MS = 3000;
const WORDS_PER_MINUTE = 230;

function countWords(text) {
    return (text.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) || []).length;
}

function timeOf(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// Marks beside blocks that other apps point out (the sources app: blocks that cite a source).
const MARKS = new pm.state.PluginKey("bellBlockMarks");

function blockMarks(editor) {
    return Extension.create({
        name: "bellBlockMarks",
        addProseMirrorPlugins: () => [
            new pm.state.Plugin({
                key: MARKS,
                props: {
                    decorations(state) {
                        const found = [];
                        state.doc.descendants((node, position) => {
                            const label = editor.marks.get(node.attrs.blockId);
                            if (label) {
                                const attributes = { "data-bell-mark": "", title: label };
                                found.push(pm.view.Decoration.node(position, position + node.nodeSize, attributes));
                            }
                            return node.type.name === "doc" || node.type.name === "bulletList";
                        });
                        return pm.view.DecorationSet.create(state.doc, found);
                    },
                },
            }),
        ],
    });
}

class StoryEditor {
    constructor(root, data) {
        this.root = root;
        this.data = data;
        this.form = root.closest("form");
        this.headline = this.form.querySelector("#id_headline");
        this.takeaway = this.form.querySelector("#id_takeaway");
        this.status = root.querySelector("[data-bell-editor-saved]");
        this.count = root.querySelector("[data-bell-editor-count]");
        this.dirty = false;
        this.saving = null;
        this.baseRevision = data.baseRevision;
        this.marks = new Map(Object.entries(data.marks || {}).map(([id, label]) => [Number(id), label]));
        const draft = this.newestDraft(data);
        const loaded = draft ? draft.blocks : data.blocks;
        if (draft) {
            this.restoreDraft(draft);
        }
        this.editor = new Editor({
            element: root.querySelector("[data-bell-editor-document]"),
            extensions: [...extensions({
                placeholder: translate("Write the story: Enter for a new paragraph, “## ” for a sub-heading, “- ” for a list"),
                onLinkKey: () => this.link(),
            }), blockMarks(this)],
            content: draft?.html || blocksHTML(loaded),
            editorProps: {
                transformPastedHTML: cleanPastedHTML,
                attributes: {
                    "aria-label": translate("Story text"),
                    "aria-multiline": "true",
                    role: "textbox",
                    spellcheck: "true",
                },
            },
            onUpdate: () => this.changed(),
            onBlur: () => this.saveDraft(),
            onSelectionUpdate: () => this.toolbarState(),
            onTransaction: () => this.toolbarState(),
        });
        const slots = new Set(data.slots);
        this.known = fingerprints(this.editor.state.doc, loaded);
        for (const id of this.known.keys()) {
            if (!slots.has(id)) {
                this.known.delete(id);
            }
        }
        this.original = new Map(data.blocks.filter((row) => row.id).map((row) => [row.id, row]));
        this.wire();
        this.counts();
        this.preview = new Preview(this);
    }

    // The browser's own copy of the draft, written on every change: it survives a reload
    // that comes before the last draft reached the server, or a connection that dropped.
    readCopy() {
        try {
            return JSON.parse(window.localStorage.getItem(this.data.copyKey) || "null");
        } catch {
            return null;
        }
    }

    writeCopy(extra = {}) {
        try {
            const copy = { savedAt: this.editedAt, baseRevision: this.baseRevision };
            Object.assign(copy, this.content(), { html: this.editor.getHTML() }, extra);
            window.localStorage.setItem(this.data.copyKey, JSON.stringify(copy));
        } catch {
            // Storage full or refused: the server's draft still holds.
        }
    }

    newestDraft(data) {
        if (data.bound) {
            // A refused save: the form below holds what was sent, the newest text there is.
            return null;
        }
        const copy = this.readCopy();
        if (copy && copy.submitted && !data.draft) {
            // Sent with a save that went through (a saved story has no server draft).
            window.localStorage.removeItem(data.copyKey);
            return data.draft;
        }
        // Both times are this browser's clock: when the last change each holds was made.
        if (copy && !copy.submitted && (!data.draft || copy.editedAt > (data.draft.editedAt || ""))) {
            this.dirty = true;
            return { ...copy, stale: Boolean(data.draft?.stale) };
        }
        return data.draft;
    }

    restoreDraft(draft) {
        this.editedAt = draft.editedAt || "";
        if (this.headline) {
            this.headline.value = draft.headline;
        }
        if (this.takeaway) {
            this.takeaway.value = draft.takeaway;
        }
        const notice = this.root.querySelector("[data-bell-editor-notice]");
        notice.hidden = false;
        notice.querySelector("[data-bell-editor-draft-time]").textContent = timeOf(draft.savedAt);
        notice.querySelector("[data-bell-editor-stale]").hidden = !draft.stale;
        // The workflow steps act on what is stored: they wait until this text is saved.
        queueMicrotask(() => this.form.dispatchEvent(new Event("input", { bubbles: true })));
    }

    wire() {
        this.root.querySelectorAll("[data-bell-command]").forEach((button) => {
            button.addEventListener("click", () => this.command(button.dataset.bellCommand));
        });
        this.root.querySelector("[data-bell-editor-discard]")?.addEventListener("click", () => this.discard());
        for (const field of [this.headline, this.takeaway]) {
            field?.addEventListener("input", () => this.changed());
            field?.addEventListener("blur", () => this.saveDraft());
        }
        this.form.addEventListener("submit", () => this.writeForm());
        this.wireLinkDialog();
        setInterval(() => this.dirty && this.saveDraft(), DRAFT_EVERY_MS);
        window.addEventListener("pagehide", () => this.saveDraft({ leaving: true }));
        document.addEventListener("visibilitychange", () => {
            if (document.visibilityState === "hidden") {
                this.saveDraft({ leaving: true });
            }
        });
    }

    changed() {
        this.dirty = true;
        this.editedAt = new Date().toISOString();
        this.writeCopy();
        this.counts();
        this.status.textContent = translate("Unsaved changes");
        this.root.dispatchEvent(new CustomEvent("bell-editor-change", { bubbles: true }));
        // workflow.js holds the review steps while there are unsaved changes.
        this.form.dispatchEvent(new Event("input", { bubbles: true }));
    }

    // For extensions ---------------------------------------------------------------------------

    /** The block the cursor is in: its stored id (null while unsaved) and kind. */
    currentBlock() {
        const { $from } = this.editor.state.selection;
        for (let depth = $from.depth; depth > 0; depth -= 1) {
            const node = $from.node(depth);
            if (["paragraph", "heading", "listItem"].includes(node.type.name)) {
                if (node.type.name === "paragraph" && $from.node(depth - 1).type.name === "listItem") {
                    continue;
                }
                const kind = { heading: "heading", listItem: "bullet" }[node.type.name] || "paragraph";
                const known = node.attrs.blockId && this.known.has(node.attrs.blockId);
                return { id: known ? node.attrs.blockId : null, kind, text: node.textContent };
            }
        }
        return null;
    }

    setMarks(marks) {
        this.marks = new Map(Object.entries(marks).map(([id, label]) => [Number(id), label]));
        this.editor.view.dispatch(this.editor.state.tr.setMeta(MARKS, true));
    }

    /** The story was saved elsewhere by this person (a citation): later saves build on it. */
    revised(revision) {
        this.baseRevision = revision;
        const field = this.form.querySelector("[name=based_on_revision]");
        if (field) {
            field.value = revision;
        }
    }

    addTool(button) {
        this.root.querySelector("[data-bell-editor-tools]").append(button);
    }

    blocks() {
        return documentBlocks(this.editor.state.doc, this.known);
    }

    content() {
        return {
            headline: this.headline ? this.headline.value : "",
            takeaway: this.takeaway ? this.takeaway.value : "",
            blocks: this.blocks(),
            editedAt: this.editedAt || "",
        };
    }

    counts() {
        const text = [
            this.headline?.value || "",
            this.editor ? this.editor.getText({ blockSeparator: "\n" }) : "",
            this.takeaway?.value || "",
        ].join("\n");
        const words = countWords(text);
        const minutes = Math.max(1, Math.round(words / WORDS_PER_MINUTE));
        this.count.textContent = interpolate(
            translate("%(words)s words · %(minutes)s min read"),
            { words, minutes },
            true
        );
    }

    async saveDraft({ leaving = false } = {}) {
        if (!this.dirty || (this.saving && !leaving)) {
            return;
        }
        this.dirty = false;
        const body = JSON.stringify({ baseRevision: this.baseRevision, content: this.content() });
        const token = this.form.querySelector("[name=csrfmiddlewaretoken]").value;
        this.saving = fetch(this.data.draftUrl, {
            method: "POST",
            body,
            keepalive: leaving,
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        });
        try {
            const response = await this.saving;
            const answer = await response.json();
            if (!response.ok) {
                this.dirty = true;
                this.status.textContent = interpolate(translate("Not kept: %(reason)s"), { reason: answer.error }, true);
                return;
            }
            this.status.textContent = interpolate(translate("Draft kept at %(time)s"), { time: timeOf(answer.savedAt) }, true);
            if (answer.revision && this.baseRevision && answer.revision > this.baseRevision) {
                this.status.textContent += " · " + translate("someone has saved a newer version: saving will show what changed");
            }
        } catch {
            this.dirty = true;
            this.status.textContent = translate("Not kept: no connection. Keep this page open.");
        } finally {
            this.saving = null;
        }
    }

    async discard() {
        const token = this.form.querySelector("[name=csrfmiddlewaretoken]").value;
        await fetch(this.data.draftUrl, {
            method: "POST",
            body: JSON.stringify({ discard: true }),
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        });
        this.dirty = false;
        window.localStorage.removeItem(this.data.copyKey);
        window.location.reload();
    }

    writeForm() {
        this.dirty = false;
        this.writeCopy({ submitted: true });
        writeForm({
            form: this.form,
            prefix: this.data.prefix,
            slots: this.data.slots,
            original: this.original,
            blocks: this.blocks(),
        });
    }

    link() {
        const dialog = this.root.querySelector("[data-bell-editor-link]");
        const input = dialog.querySelector("input");
        input.value = this.editor.getAttributes("link").href || "";
        input.removeAttribute("aria-invalid");
        dialog.querySelector("[data-bell-editor-link-hint]").classList.remove("errornote");
        dialog.showModal();
        input.focus();
        return true;
    }

    linkAction(action) {
        const dialog = this.root.querySelector("[data-bell-editor-link]");
        const input = dialog.querySelector("input");
        let href = input.value.trim();
        if (action === "apply" && href && !/^[a-z][a-z0-9+.-]*:/i.test(href)) {
            href = href.includes("@") && !href.includes("/") ? `mailto:${href}` : `https://${href}`;
        }
        if (action === "apply" && href && !linkAllowed(href)) {
            input.setAttribute("aria-invalid", "true");
            dialog.querySelector("[data-bell-editor-link-hint]").classList.add("errornote");
            return;
        }
        dialog.close();
        const chain = this.editor.chain().focus().extendMarkRange("link");
        if (action === "remove" || (action === "apply" && !href)) {
            chain.unsetLink().run();
        } else if (action === "apply") {
            chain.setLink({ href }).run();
        }
    }

    wireLinkDialog() {
        const dialog = this.root.querySelector("[data-bell-editor-link]");
        dialog.querySelectorAll("[data-bell-link-action]").forEach((button) => {
            button.addEventListener("click", () => this.linkAction(button.dataset.bellLinkAction));
        });
        dialog.querySelector("input").addEventListener("keydown", (event) => {
            if (event.key === "Enter") {
                // The dialog sits inside the story's form: Enter must not save the story.
                event.preventDefault();
                this.linkAction("apply");
            }
        });
        dialog.addEventListener("close", () => this.editor.commands.focus());
    }

    command(name) {
        const chain = this.editor.chain().focus();
        const commands = {
            heading: () => chain.toggleHeading({ level: 2 }).run(),
            paragraph: () => chain.setParagraph().run(),
            bullets: () => chain.toggleBulletList().run(),
            bold: () => chain.toggleBold().run(),
            italic: () => chain.toggleItalic().run(),
            link: () => this.link(),
            undo: () => chain.undo().run(),
            redo: () => chain.redo().run(),
        };
        commands[name]?.();
    }

    toolbarState() {
        if (!this.editor) {
            return;
        }
        const active = {
            heading: this.editor.isActive("heading"),
            bullets: this.editor.isActive("bulletList"),
            bold: this.editor.isActive("bold"),
            italic: this.editor.isActive("italic"),
            link: this.editor.isActive("link"),
        };
        this.root.querySelectorAll("[data-bell-command]").forEach((button) => {
            const name = button.dataset.bellCommand;
            if (name in active) {
                button.setAttribute("aria-pressed", String(active[name]));
            }
        });
    }
}

function start() {
    const root = document.querySelector("[data-bell-editor]");
    const data = document.getElementById("bell-editor-data");
    if (!root || !data) {
        return;
    }
    const form = root.closest("form");
    // The editor replaces the block table; without this script the table is the editor.
    form.classList.add("bell-editor-active");
    root.hidden = false;
    // The headline opens the document: its row (label, field, errors) moves to the top of it.
    const headline = form.querySelector(".form-row.field-headline");
    if (headline) {
        root.querySelector("[data-bell-editor-headline]").append(headline);
    }
    window.bellStoryEditor = new StoryEditor(root, JSON.parse(data.textContent));
    root.dispatchEvent(new CustomEvent("bell-editor-ready", { bubbles: true, detail: window.bellStoryEditor }));
}

start();
