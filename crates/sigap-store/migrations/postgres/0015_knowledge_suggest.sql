-- What the portal suggests while a reader types: the published articles' titles and
-- summaries alone (as in SQLite, where they have a small full-text index of their own),
-- indexed with the same weighted, stemmed document as kb_search with an empty body.
CREATE TABLE kb_suggest (
    article_id  UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    language    TEXT NOT NULL,
    title       TEXT NOT NULL,
    summary     TEXT NOT NULL
);
CREATE INDEX kb_suggest_document ON kb_suggest USING GIN (kb_document(language, title, summary, ''::text));
INSERT INTO kb_suggest (article_id, language, title, summary)
    SELECT article_id, language, title, summary FROM kb_search;
