"""The database schema (SQLAlchemy Core). Alembic migrations in ``migrations/`` build exactly this;
``tests/test_store.py`` checks that they agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

meetings = Table(
    "meetings",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("number", Integer, nullable=False),
    Column("label", String(64), nullable=False),
    Column("year", Integer),
    Column("kind", String(16), nullable=False),
    Column("place", String(200)),
    Column("date", String(32)),
    # The document the meeting's statements come from: the compilation (``sources``) for the
    # meetings it covers, the declaration accepted from for the meetings added since.
    # Plain integers (no foreign keys, see migration 0008): ``sources.id`` and ``declarations.id``.
    Column("source_id", Integer),
    Column("declaration_id", Integer),
)

themes = Table(
    "themes",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("title", Text, nullable=False),
    Column("un_title", Text, nullable=False),
    Column("consultation", String(64), nullable=False),
)

subthemes = Table(
    "subthemes",
    metadata,
    Column("theme", Integer, ForeignKey("themes.number"), primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("title", Text, nullable=False),
    Column("page", Integer),
)

categories = Table(
    "categories",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("label", String(32), nullable=False),
    Column("definition", Text, nullable=False),
    Column("position", Integer, nullable=False),
)

countries = Table(
    "countries",
    metadata,
    Column("iso3", String(3), primary_key=True),
    Column("iso2", String(2), nullable=False),
    Column("name_en", String(100), nullable=False),
    Column("name_es", String(100), nullable=False),
    Column("member", Boolean, nullable=False),
)

gcm_objectives = Table(
    "gcm_objectives",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("title", Text, nullable=False),
)

gcm_principles = Table(
    "gcm_principles",
    metadata,
    Column("letter", String(1), primary_key=True),
    Column("name", Text, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("date", String(64), nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
)

source_notices = Table(
    "source_notices",
    metadata,
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("line", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("text", Text, nullable=False),
)

statements = Table(
    "statements",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("meeting", String(16), ForeignKey("meetings.code"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("heading", Text),
    Column("lang", String(8), nullable=False),
    Column("text_es", Text),
    # The English wording of a statement whose ``text`` is Spanish (added from a Spanish
    # declaration), where a reviewer accepted one (migration 0010).
    Column("text_en", Text),
    Column("category", String(16), ForeignKey("categories.name")),
    Column("category_source", String(16)),
    Column("category_confidence", Float),
    Column("normal_form", Text, nullable=False),
    Column("source_id", Integer, ForeignKey("sources.id")),
    # The wording's version: 1 as first stored, + 1 on each rewording (``statement_versions``).
    Column("version", Integer, nullable=False, server_default="1"),
    # A retired statement (all its rows deleted from the compilation) keeps its id, history and
    # opinions, but leaves the compilation's tables and the default search.
    Column("retired_at", DateTime(timezone=True)),
    Column("retired_by", String(100)),
)

# Every wording a statement has had, the current one included: never overwritten, never deleted.
statement_versions = Table(
    "statement_versions",
    metadata,
    Column(
        "statement_id",
        String(32),
        ForeignKey("statements.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),
    Column("heading", Text),
    Column("items", Text, nullable=False),  # JSON list
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("origin", String(200), nullable=False),  # what made it: a file, the web, a declaration
)

statement_items = Table(
    "statement_items",
    metadata,
    Column(
        "statement_id",
        String(32),
        ForeignKey("statements.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),
)

placements = Table(
    "placements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "statement_id",
        String(32),
        ForeignKey("statements.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("theme", Integer, nullable=False),
    Column("subtheme", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("note", Text),
    Column("also_relevant_all", Boolean, nullable=False),
    Column("printed_text", Text, nullable=False),
    Column("line", Integer, nullable=False),
    ForeignKeyConstraint(["theme", "subtheme"], ["subthemes.theme", "subthemes.position"]),
    UniqueConstraint("theme", "subtheme", "position", name="uq_placements_row"),
)

placement_themes = Table(
    "placement_themes",
    metadata,
    Column(
        "placement_id", Integer, ForeignKey("placements.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("theme", Integer, ForeignKey("themes.number"), primary_key=True, autoincrement=False),
)


# The search index. Each statement's facets (meeting, category, themes, sub-themes, themes its notes
# name) form a "combination"; the few hundred distinct combinations are rows of ``facet_combos``,
# and a statement's ``docid`` carries its meeting and combination in its high bits:
#     docid = meeting number << 52 | combination id << 32 | sequence
# so that counting facets over a million matches is a GROUP BY on the docid alone, with no lookup
# per match, and ordering by docid orders by meeting. Theme bits: 1 << (theme - 1); sub-theme bits:
# 1 << ((theme - 1) * 10 + order - 1). ``body`` holds the stems from ``rcm.analyze.index_body``.
# SQLite adds an FTS5 table over ``body`` (``statement_fts``, kept in step by triggers); PostgreSQL
# adds a generated ``tsv`` column with a GIN index (migration 0002).
facet_combos = Table(
    "facet_combos",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("meeting", Integer, nullable=False),
    Column("meeting_code", String(16), nullable=False),
    Column("year", Integer),
    Column("category", String(16)),
    Column("themes", BigInteger, nullable=False),
    Column("subthemes", BigInteger, nullable=False),
    Column("xrefs", BigInteger, nullable=False),
    Column("n_themes", Integer, nullable=False),
)

statement_search = Table(
    "statement_search",
    metadata,
    # INTEGER on SQLite, so that it is the rowid the FTS5 table points to; BIGINT elsewhere.
    Column(
        "docid", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column(
        "statement_id",
        String(32),
        ForeignKey("statements.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("body", Text, nullable=False),
)


# Bumped in the same transaction as every write to the index or the reference data, so that readers
# can cache small lookups (meetings, titles, facet combinations) and know when to read them again.
index_state = Table(
    "index_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", Integer, nullable=False),
    # PostgreSQL's ranking: "rum" (a RUM index orders the top hits, migration 0010) or "gin"
    # (ts_rank_cd over every match); NULL on SQLite (FTS5's bm25).
    Column("ranking", String(8)),
)


# The version of everything a reader can be shown: bumped by ``Store.transaction`` in the same
# transaction as every write (but those to the tables no page shows: ``store.UNSHOWN_TABLES``), so
# that a web answer's ETag (``rcm.web.caching``) changes with any data it may hold. One row.
data_version = Table(
    "data_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)


# --- the consultation ("Still valid?") -----------------------------------------------------------

rounds = Table(
    "rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("deadline", String(10)),  # ISO date, the last day answers are expected
    Column("scope", Text, nullable=False),  # the filter that chose the statements, as a sentence
    Column("state", String(8), nullable=False),  # open | closed
    Column("silence_is_consent", Boolean, nullable=False),
    Column("public", Boolean, nullable=False),
    Column("secret", String(64), nullable=False),  # signs questionnaires
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
)

round_statements = Table(
    "round_statements",
    metadata,
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("statement_id", String(32), ForeignKey("statements.id"), primary_key=True),
)

opinions = Table(
    "opinions",
    metadata,
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("country", String(3), ForeignKey("countries.iso3"), primary_key=True),
    Column("statement_id", String(32), ForeignKey("statements.id"), primary_key=True),
    Column("value", String(20), nullable=False),
    Column("proposed_wording", Text),
    Column("reason", Text),
    Column("comment", Text),
    Column("author", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    # The statement's wording (``statements.version``) the answer was given to; None if unknown.
    Column("statement_version", Integer),
)

# Every version of every opinion: never overwritten, never deleted.
opinion_history = Table(
    "opinion_history",
    metadata,
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("country", String(3), primary_key=True),
    Column("statement_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("value", String(20), nullable=False),
    Column("proposed_wording", Text),
    Column("reason", Text),
    Column("comment", Text),
    Column("author", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("source", String(40), nullable=False),  # cli, web, xlsx:<file name>
    Column("statement_version", Integer),
)

# A country's answers as its focal point gives them on the web form, row by row, before the
# country submits them (``rcm.drafts``): what was typed, kept whole even when it is not yet a valid
# answer. A draft is not an answer: nothing counts it (consensus, dashboard, position); submitting
# turns the drafts into opinions and deletes them in one transaction.
answer_drafts = Table(
    "answer_drafts",
    metadata,
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("country", String(3), ForeignKey("countries.iso3"), primary_key=True),
    Column("statement_id", String(32), ForeignKey("statements.id"), primary_key=True),
    Column("value", String(20)),  # None: no answer chosen yet (but some text typed)
    Column("proposed_wording", Text),
    Column("note", Text),  # the reason (no longer valid) or the comment (any other answer)
    Column("confirmed", Boolean, nullable=False),  # give an unchanged answer again (new wording)
    # What the form showed: the version of the country's opinion (0: none) and of the wording.
    Column("opinion_version", Integer, nullable=False),
    Column("statement_version", Integer),
    Column("author", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("object", String(200), nullable=False),
    Column("before", Text),
    Column("after", Text),
)


# --- people ---------------------------------------------------------------------------------------

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),  # secretariat | focal_point | observer
    Column("country", String(3), ForeignKey("countries.iso3")),  # a focal point's country
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("email", String(254)),  # where invitations and reminders go (rcm.mail); None: nowhere
    # The language of the person's documents (their questionnaire's by default): en | es.
    Column("lang", String(5), nullable=False, server_default="en"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie value
    Column(
        "user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)


# Failed sign-ins per (client address, username as typed): the growing delays that slow down a
# guesser without locking the account's owner out from elsewhere. Shared by every worker.
login_failures = Table(
    "login_failures",
    metadata,
    Column("client", String(64), primary_key=True),
    Column("username", String(100), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False, index=True),
)

# Observers (observer states, IOM, UNHCR, civil society) comment; they never answer. Kept apart.
observer_comments = Table(
    "observer_comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("statement_id", String(32), ForeignKey("statements.id"), nullable=False),
    Column("author", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


# --- suggestions and new declarations -------------------------------------------------------------

# Which GCM objectives a statement serves: curated (a person chose) or suggested (the linker).
statement_objectives = Table(
    "statement_objectives",
    metadata,
    Column(
        "statement_id",
        String(32),
        ForeignKey("statements.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "objective",
        Integer,
        ForeignKey("gcm_objectives.number"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("source", String(16), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("score", Float),
)

# A new declaration waiting for (or past) review. Its meeting enters ``meetings`` with the first
# accepted statement; until then it lives here, so nothing reaches the compendium unreviewed.
declarations = Table(
    "declarations",
    metadata,
    Column("id", Integer, primary_key=True),
    # One active declaration per meeting; a withdrawn or replaced one keeps its meeting's code.
    Column("meeting_code", String(16), nullable=False, index=True),
    Column("meeting_number", Integer, nullable=False),
    Column("meeting_label", String(64), nullable=False),
    Column("meeting_kind", String(16), nullable=False),
    Column("year", Integer, nullable=False),
    Column("place", String(200)),
    Column("date", String(32)),
    Column("name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("size", Integer, nullable=False),
    Column("lang", String(8), nullable=False),
    Column("title", Text, nullable=False),
    Column("preamble", Text, nullable=False),  # JSON list of paragraphs, kept apart
    Column("closing", Text, nullable=False),  # JSON list
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", String(100), nullable=False),
    Column("reference", Text),  # the document's symbol or address, for citations
    Column(
        "state", String(12), nullable=False, server_default="active"
    ),  # active|withdrawn|replaced
    Column("replaced_by", Integer),  # the declaration that corrected this one
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("withdrawn_by", String(100)),
    Column("withdrawn_reason", Text),
    # JSON list of [line, part, text, marker, statement]: every paragraph as the reader took it
    # (``ReadLine``); NULL for a declaration added before it was kept (migration 0016).
    Column("reading", Text),
)

# One draft statement of a declaration, with the machine's suggestions and a person's decision.
proposals = Table(
    "proposals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "declaration_id",
        Integer,
        ForeignKey("declarations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("heading", Text),
    Column("items", Text, nullable=False),  # JSON list
    Column("lead", Text),
    Column("line", Integer, nullable=False),
    Column("lang", String(8), nullable=False),
    Column(
        "suggestions", Text, nullable=False
    ),  # JSON: category, themes, objectives, with evidence
    Column("state", String(10), nullable=False),  # pending | accepted | rejected
    Column("decided_by", String(100)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision", Text),  # JSON: what the person chose, whether they edited, or why rejected
    Column("statement_id", String(32), ForeignKey("statements.id")),
    # Where it comes from: NULL for the declaration's operative part as read, "preamble K" or
    # "closing K" for a paragraph a reviewer promoted, "hand" for a statement added by hand.
    Column("origin", String(24)),
    UniqueConstraint("declaration_id", "position", name="uq_proposals_position"),
)


# A wording of a statement in its other language, read from a Spanish edition of the compilation
# or from a declaration's other-language version and aligned to it: waiting for review, like a
# new statement. Accepting it sets ``statements.text_es`` (or ``text_en``); the accepted rows are
# the history of a statement's parallel wordings (migration 0010).
translations = Table(
    "translations",
    metadata,
    Column("id", Integer, primary_key=True),
    # The statement it translates; NULL while it waits for a declaration's proposal to be decided.
    Column("statement_id", String(32), ForeignKey("statements.id"), index=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), index=True),
    Column("lang", String(8), nullable=False),  # the language of ``text``: es | en
    Column("text", Text, nullable=False),
    Column("origin", String(16), nullable=False),  # edition | declaration
    Column("source_name", String(255), nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("declaration_id", Integer, ForeignKey("declarations.id", ondelete="CASCADE")),
    Column("rows", Text, nullable=False),  # JSON list: where the wording is in the source
    Column("likeness", Text, nullable=False),  # JSON: the alignment's evidence
    Column("state", String(10), nullable=False),  # pending | accepted | rejected
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", String(100), nullable=False),
    Column("decided_by", String(100)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision", Text),  # JSON: the reason, the wording it replaced, whether edited
)


# --- e-mail: every invitation and reminder, queued, sent, failed or not sent (rcm.mail) ----------

mail_log = Table(
    "mail_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(12), nullable=False),  # invitation | reminder
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("recipient", String(254)),  # the address at the time (None: the account had none)
    Column("country", String(3), nullable=False),
    Column("language", String(2), nullable=False),
    # pending | sent | failed (to be retried) | gave up | not sent (see ``error``)
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", String(500)),  # the last failure, or why nothing was sent
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("created_by", String(100), nullable=False),
)
