-- Suggestions while a reader types, fast at any size of the knowledge base.
--
-- The first three letters of every word are indexed apart (prefix = '3'): a word being typed
-- is looked for from its third letter, and merging the lists of every word it may start
-- would cost more. FTS5 takes the option only when the table is made, so kb_search is made
-- again with it and its rows (keyed by the task's search key) carried over.
CREATE VIRTUAL TABLE kb_search_prefixed USING fts5(
    article_id UNINDEXED,
    language UNINDEXED,
    title,
    summary,
    body,
    tokenize = 'porter unicode61 remove_diacritics 2',
    prefix = '3'
);
INSERT INTO kb_search_prefixed (rowid, article_id, language, title, summary, body)
    SELECT rowid, article_id, language, title, summary, body FROM kb_search;
DROP TABLE kb_search;
ALTER TABLE kb_search_prefixed RENAME TO kb_search;

-- What the portal suggests while a reader types: the published articles' titles and
-- summaries alone, a small index ranked at every keystroke (a word found in most bodies
-- matches most articles in kb_search, and ranking them all takes long). Keyed by the search
-- key too.
CREATE VIRTUAL TABLE kb_suggest USING fts5(
    article_id UNINDEXED,
    language UNINDEXED,
    title,
    summary,
    tokenize = 'porter unicode61 remove_diacritics 2',
    prefix = '3'
);
INSERT INTO kb_suggest (rowid, article_id, language, title, summary)
    SELECT rowid, article_id, language, title, summary FROM kb_search;
