// The story editor: one flowing document over the story's blocks (see issues/admin/editor.py).
// Headline, then sub-headings, paragraphs and bullet lists typed as in any word processor;
// what is typed is kept as an unsaved draft (drafts.js) and written back into the block form
// when the story is saved (form.js). Other apps add tools through the methods marked below.
import { Editor } from "../../django_prose_editor/editor.js";
import { Drafts } from "./drafts.js";
import { blocksHTML, documentBlocks, fingerprints, writeForm } from "./form.js";
import { LinkDialog } from "./link.js";
import { MARKS, blockMarks } from "./marks.js";
import { cleanPastedHTML } from "./paste.js";
import { Preview } from "./preview.js";
import { extensions } from "./schema.js";
import { interpolate, timeOf, translate } from "./text.js";

const WORDS_PER_MINUTE = 230;

function countWords(text) {
    return (text.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) || []).length;
}

function marksFrom(object) {
    return new Map(Object.entries(object || {}).map(([id, label]) => [Number(id), label]));
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
        this.baseRevision = data.baseRevision;
        this.marks = marksFrom(data.marks);
        this.drafts = new Drafts(this);
        const draft = this.drafts.newest(data);
        const loaded = draft ? draft.blocks : data.blocks;
        if (draft) {
            this.restoreDraft(draft);
        }
        this.linkDialog = new LinkDialog(this);
        this.editor = new Editor({
            element: root.querySelector("[data-bell-editor-document]"),
            extensions: [
                ...extensions({
                    placeholder: translate(
                        "Write the story: Enter for a new paragraph, “## ” for a sub-heading, “- ” for a list"
                    ),
                    onLinkKey: () => this.linkDialog.open(),
                }),
                blockMarks(this),
            ],
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
            onBlur: () => this.drafts.save(),
            onTransaction: () => this.toolbarState(),
        });
        // Only the rows the form was opened with can be updated; other ids are new blocks.
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

    restoreDraft(draft) {
        this.drafts.restored(draft);
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
        this.root
            .querySelector("[data-bell-editor-discard]")
            ?.addEventListener("click", () => this.drafts.discard());
        for (const field of [this.headline, this.takeaway]) {
            field?.addEventListener("input", () => this.changed());
            field?.addEventListener("blur", () => this.drafts.save());
        }
        this.form.addEventListener("submit", () => this.writeForm());
        this.drafts.start();
    }

    changed() {
        this.drafts.changed();
        this.counts();
        this.status.textContent = translate("Unsaved changes");
        this.root.dispatchEvent(new CustomEvent("bell-editor-change", { bubbles: true }));
        // workflow.js holds the review steps while there are unsaved changes.
        this.form.dispatchEvent(new Event("input", { bubbles: true }));
    }

    blocks() {
        return documentBlocks(this.editor.state.doc, this.known);
    }

    content() {
        return {
            headline: this.headline ? this.headline.value : "",
            takeaway: this.takeaway ? this.takeaway.value : "",
            blocks: this.blocks(),
            editedAt: this.drafts.editedAt,
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
        this.count.textContent = interpolate(translate("%(words)s words · %(minutes)s min read"), {
            words,
            minutes,
        });
    }

    writeForm() {
        this.drafts.submitted();
        writeForm({
            form: this.form,
            prefix: this.data.prefix,
            slots: this.data.slots,
            original: this.original,
            blocks: this.blocks(),
        });
    }

    command(name) {
        const chain = this.editor.chain().focus();
        const commands = {
            heading: () => chain.toggleHeading({ level: 2 }).run(),
            paragraph: () => chain.setParagraph().run(),
            bullets: () => chain.toggleBulletList().run(),
            bold: () => chain.toggleBold().run(),
            italic: () => chain.toggleItalic().run(),
            link: () => this.linkDialog.open(),
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

    // For extensions (static/sources/cite.js) ---------------------------------------------------

    /** The block the cursor is in: its stored id (null while unsaved), kind and text. */
    currentBlock() {
        const { $from } = this.editor.state.selection;
        for (let depth = $from.depth; depth > 0; depth -= 1) {
            const node = $from.node(depth);
            const inItem = node.type.name === "paragraph" && $from.node(depth - 1).type.name === "listItem";
            if (!["paragraph", "heading", "listItem"].includes(node.type.name) || inItem) {
                continue;
            }
            const kind = { heading: "heading", listItem: "bullet" }[node.type.name] || "paragraph";
            const known = node.attrs.blockId && this.known.has(node.attrs.blockId);
            return { id: known ? node.attrs.blockId : null, kind, text: node.textContent };
        }
        return null;
    }

    setMarks(marks) {
        this.marks = marksFrom(marks);
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

    /** POST ``body`` as JSON to one of the app's addresses, with the page's CSRF token. */
    postJSON(url, body, { keepalive = false } = {}) {
        const token = this.form.querySelector("[name=csrfmiddlewaretoken]").value;
        return fetch(url, {
            method: "POST",
            body: JSON.stringify(body),
            keepalive,
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        });
    }

    addTool(button) {
        this.root.querySelector("[data-bell-editor-tools]").append(button);
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
    root.dispatchEvent(
        new CustomEvent("bell-editor-ready", { bubbles: true, detail: window.bellStoryEditor })
    );
}

start();
