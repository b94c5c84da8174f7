BEGIN TRANSACTION;
CREATE TABLE case_replies (
        event_id TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        sender TEXT NOT NULL,
        at REAL NOT NULL
    );
INSERT INTO "case_replies" VALUES('$ev4','!first:test',2,'@bob:test',1800000000.0);
CREATE TABLE cases (
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        root_event_id TEXT NOT NULL UNIQUE,
        card_event_id TEXT,
        poster TEXT NOT NULL,
        specialties TEXT NOT NULL DEFAULT '',
        tag_source TEXT NOT NULL DEFAULT 'none',
        status TEXT NOT NULL DEFAULT 'open',
        opened_at REAL NOT NULL,
        first_reply_at REAL,
        first_reply_by TEXT,
        replies INTEGER NOT NULL DEFAULT 0,
        resolved_at REAL,
        resolved_by TEXT,
        resolution_event_id TEXT,
        accepted_event_id TEXT,
        closed_at REAL,
        taken_by TEXT,
        PRIMARY KEY (room_id, number)
    );
INSERT INTO "cases" VALUES('!first:test',1,'$ev2','$bot3','@alice:test','dermato','hashtag','open',1800000000.0,NULL,NULL,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO "cases" VALUES('!first:test',2,'$ev3','$bot5','@alice:test','cardio','hashtag','resolved',1800000000.0,1800000000.0,'@bob:test',1,1800000000.0,'@alice:test','$ev5',NULL,NULL,NULL);
CREATE TABLE handled_events (event_id TEXT PRIMARY KEY, handled_at REAL NOT NULL);
INSERT INTO "handled_events" VALUES('$ev1',1800000000.0);
INSERT INTO "handled_events" VALUES('$ev2',1800000000.0);
INSERT INTO "handled_events" VALUES('$ev3',1800000000.0);
INSERT INTO "handled_events" VALUES('$ev4',1800000000.0);
INSERT INTO "handled_events" VALUES('$ev5',1800000000.0);
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE room_settings (
        room_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (room_id, key)
    );
INSERT INTO "room_settings" VALUES('!first:test','language','en');
CREATE TABLE schema_version ( component TEXT PRIMARY KEY, version INTEGER NOT NULL);
INSERT INTO "schema_version" VALUES('core',1);
INSERT INTO "schema_version" VALUES('timers',1);
INSERT INTO "schema_version" VALUES('cases',1);
INSERT INTO "schema_version" VALUES('secrecy',1);
INSERT INTO "schema_version" VALUES('volunteers',1);
CREATE TABLE secrecy_counts (
        room_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        day INTEGER NOT NULL,
        count INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, kind, day)
    );
CREATE TABLE secrecy_onboarded (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (room_id, user_id)
    );
INSERT INTO "secrecy_onboarded" VALUES('!first:test','@alice:test');
CREATE TABLE timers (
        component TEXT NOT NULL,
        key TEXT NOT NULL,
        due REAL NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (component, key)
    );
INSERT INTO "timers" VALUES('volunteers','escalate:!first:test:1',1800001800.0,'{"room_id": "!first:test", "number": 1, "round": 1, "urgent": false}');
INSERT INTO "timers" VALUES('cases','unanswered:!first:test:1',1800014400.0,'{"room_id": "!first:test", "number": 1}');
INSERT INTO "timers" VALUES('cases','autoclose:!first:test:1',1801209600.0,'{"room_id": "!first:test", "number": 1}');
CREATE TABLE volunteer_pages (
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        round INTEGER NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (room_id, number, user_id)
    );
INSERT INTO "volunteer_pages" VALUES('!first:test',1,'@vol:test',1,1800000000.0);
CREATE TABLE volunteer_prefs (
        user_id TEXT PRIMARY KEY,
        away_until REAL,
        quiet_start INTEGER,
        quiet_end INTEGER,
        tz TEXT,
        urgent INTEGER NOT NULL DEFAULT 0
    );
CREATE TABLE volunteer_rotation (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        last_paged_at REAL NOT NULL,
        turn INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, user_id)
    );
INSERT INTO "volunteer_rotation" VALUES('!first:test','@vol:test',1800000000.0,1);
CREATE TABLE volunteers (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        specialty TEXT NOT NULL,
        since REAL NOT NULL,
        PRIMARY KEY (room_id, user_id, specialty)
    );
INSERT INTO "volunteers" VALUES('!first:test','@vol:test','dermato',1800000000.0);
CREATE INDEX handled_events_at ON handled_events (handled_at);
CREATE INDEX timers_due ON timers (due);
CREATE INDEX cases_room_status ON cases (room_id, status, opened_at);
CREATE INDEX cases_room_opened ON cases (room_id, opened_at);
CREATE INDEX case_replies_case ON case_replies (room_id, number);
CREATE INDEX volunteers_specialty ON volunteers (room_id, specialty);
CREATE INDEX volunteer_pages_user ON volunteer_pages (user_id, at);
COMMIT;
