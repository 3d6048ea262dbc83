// The editor's schema: exactly what a story's blocks can hold. Sub-headings (one level),
// paragraphs and one-level bullet lists; bold, emphasis and http(s)/mailto links. Each block
// node carries the id of the Block row it shows, so a save updates that row.
import {
    Bold,
    BulletList,
    Document,
    Extension,
    Heading,
    Italic,
    Link,
    ListItem,
    Paragraph,
    Placeholder,
    Text,
    UndoRedo,
} from "../../django_prose_editor/editor.js";
import { linkAllowed } from "./markdown.js";

export const BLOCK_TYPES = ["paragraph", "heading", "listItem"];

const BlockIds = Extension.create({
    name: "bellBlockIds",
    addGlobalAttributes() {
        return [
            {
                types: BLOCK_TYPES,
                attributes: {
                    blockId: {
                        default: null,
                        // Enter makes a new block: the id stays with the text before the cursor.
                        keepOnSplit: false,
                        parseHTML: (element) => {
                            const value = Number.parseInt(element.dataset.blockId || "", 10);
                            return Number.isNaN(value) ? null : value;
                        },
                        renderHTML: (attributes) =>
                            attributes.blockId ? { "data-block-id": attributes.blockId } : {},
                    },
                },
            },
        ];
    },
});

const StoryDocument = Document.extend({ content: "(paragraph | heading | bulletList)+" });

// A bullet is one paragraph: Tab cannot nest it, Shift-Tab takes it out of the list.
const StoryListItem = ListItem.extend({ content: "paragraph" });

const StoryHeading = Heading.extend({
    parseHTML() {
        return ["h1", "h2", "h3", "h4", "h5", "h6"].map((tag) => ({ tag, attrs: { level: 2 } }));
    },
}).configure({ levels: [2] });

export function extensions({ placeholder, onLinkKey }) {
    return [
        StoryDocument,
        Paragraph,
        Text,
        StoryHeading,
        BulletList,
        StoryListItem,
        Bold,
        Italic,
        // The bundle's Link opens a dialog of its own on Ctrl/⌘-K (title, new window): ours
        // asks only for the address, which is all a block's Markdown keeps.
        Link.extend({ addKeyboardShortcuts: () => ({}) }).configure({
            openOnClick: false,
            autolink: true,
            defaultProtocol: "https",
            isAllowedUri: (url) => linkAllowed(url),
        }),
        UndoRedo,
        Placeholder.configure({ placeholder }),
        BlockIds,
        Extension.create({
            name: "bellLinkKey",
            addKeyboardShortcuts() {
                return { "Mod-k": () => onLinkKey() };
            },
        }),
    ];
}
