/// The OpenAPI 3.1 description of `/v1`, served at `/v1/openapi.json`. `make test` runs
/// schemathesis against a live relay with it: every answer must match what is written here.
enum OpenAPIDocument {
    static let json: [UInt8] = Array(text.utf8)

    static let text = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "Hikyaku HTTP API",
            "version": "1",
            "description": "Send mail through a Hikyaku relay. Authenticate with an account's API key: `Authorization: Bearer <key>` (`hikyaku account api-key create`)."
          },
          "servers": [{"url": "/"}],
          "security": [{"bearer": []}],
          "paths": {
            "/v1/messages": {
              "post": {
                "operationId": "sendMessage",
                "summary": "Send one message (structured, or raw MIME with an envelope).",
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}},
                "responses": {
                  "202": {"description": "Stored durably (or checked only, with sandbox).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"},
                  "415": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/RetryLater"},
                  "503": {"$ref": "#/components/responses/RetryLater"}
                }
              }
            },
            "/v1/messages/batch": {
              "post": {
                "operationId": "sendBatch",
                "summary": "One template, many personalizations: one message each.",
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}},
                "responses": {
                  "202": {"description": "Each item's id, or its error.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchAnswer"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"},
                  "415": {"$ref": "#/components/responses/Error"},
                  "422": {"description": "The batch is invalid (nothing stored), or every item was refused.", "content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/Error"}, {"$ref": "#/components/schemas/BatchAnswer"}]}}}},
                  "429": {"$ref": "#/components/responses/RetryLater"},
                  "503": {"$ref": "#/components/responses/RetryLater"}
                }
              }
            },
            "/v1/messages/{id}": {
              "get": {
                "operationId": "getMessage",
                "summary": "A message's envelope and each recipient's latest status (from the log store when one is configured, else the recent events).",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {
                  "200": {"description": "Found.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageStatus"}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/RetryLater"},
                  "503": {"$ref": "#/components/responses/RetryLater"}
                }
              }
            },
            "/v1/events": {
              "get": {
                "operationId": "listEvents",
                "summary": "The account's events, newest first; follow next_cursor for more. Read from the log store when one is configured (any age it keeps), else from the events stream.",
                "parameters": [
                  {"name": "recipient", "in": "query", "schema": {"type": "string"}},
                  {"name": "message_id", "in": "query", "schema": {"type": "string"}},
                  {"name": "queue_id", "in": "query", "schema": {"type": "string"}},
                  {"name": "event", "in": "query", "schema": {"type": "string", "enum": ["accepted", "delivered", "deferred", "bounced", "expired", "purged", "backoff", "paused", "resumed", "complaint", "suppressed"]}},
                  {"name": "since", "in": "query", "schema": {"type": "string", "examples": ["2026-12-06T10:00:00Z"]}},
                  {"name": "until", "in": "query", "schema": {"type": "string", "examples": ["2026-12-06T11:00:00Z"]}},
                  {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
                ],
                "responses": {
                  "200": {"description": "Events.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Events"}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/RetryLater"},
                  "503": {"$ref": "#/components/responses/RetryLater"}
                }
              }
            },
            "/v1/stats": {
              "get": {
                "operationId": "getStats",
                "summary": "The account's hourly counts per sending and recipient domain (per recipient), from the log store; hours starting in [since, until), at most 31 days.",
                "parameters": [
                  {"name": "since", "in": "query", "description": "Default: 24 hours before until.", "schema": {"type": "string", "examples": ["2026-12-06T00:00:00Z"]}},
                  {"name": "until", "in": "query", "description": "Default: now.", "schema": {"type": "string", "examples": ["2026-12-07T00:00:00Z"]}},
                  {"name": "by", "in": "query", "description": "site: one row per receiving site too.", "schema": {"type": "string", "enum": ["site"]}}
                ],
                "responses": {
                  "200": {"description": "Counts.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stats"}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/RetryLater"},
                  "503": {"description": "No log store is configured (logs.sqlite_path or logs.postgres_url), or it cannot be read now.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                }
              }
            },
            "/v1/webhooks": {
          "get": {
            "operationId": "listWebhooks",
            "summary": "The account's webhook endpoints (without their secrets).",
            "responses": {
              "200": {"description": "Endpoints.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Webhooks"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/RetryLater"},
              "503": {"$ref": "#/components/responses/RetryLater"}
            }
          },
          "post": {
            "operationId": "addWebhook",
            "summary": "Add an endpoint; its signing secret is in this answer only.",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewWebhook"}}}},
            "responses": {
              "201": {"description": "Added.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Webhook"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "415": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/RetryLater"},
              "503": {"$ref": "#/components/responses/RetryLater"}
            }
          }
        },
        "/v1/webhooks/{id}": {
          "delete": {
            "operationId": "removeWebhook",
            "summary": "Remove an endpoint (what it had not received yet is dropped).",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {
              "204": {"description": "Removed."},
              "401": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/RetryLater"},
              "503": {"$ref": "#/components/responses/RetryLater"}
            }
          }
        },
        "/v1/suppressions": {
          "get": {
            "operationId": "listSuppressions",
            "summary": "The account's suppression list, a page at a time; with address, the entry that applies to it (the global list too).",
            "parameters": [
              {"name": "address", "in": "query", "required": false, "schema": {"type": "string"}},
              {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
              {"name": "cursor", "in": "query", "required": false, "schema": {"type": "string", "pattern": "^[0-9]{1,20}$"}}
            ],
            "responses": {
              "200": {"description": "Entries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Suppressions"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/RetryLater"},
              "503": {"$ref": "#/components/responses/RetryLater"}
            }
          },
          "post": {
            "operationId": "addSuppressions",
            "summary": "Add one entry, or up to 1000 ({\"suppressions\": [...]}); an address already listed gets the new entry.",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"oneOf": [
              {"$ref": "#/components/schemas/NewSuppression"},
              {"type": "object", "required": ["suppressions"], "additionalProperties": false,
               "properties": {"suppressions": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"$ref": "#/components/schemas/NewSuppression"}}}}
            ]}}}},
            "responses": {
              "201": {"description": "Added.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Suppressions"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "415": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/RetryLater"},
              "503": {"$ref": "#/components/responses/RetryLater"}
            }
          }
        },
        "/v1/suppressions/{address}": {
          "delete": {
            "operationId": "removeSuppression",
            "summary": "Remove an address from the account's suppression list.",
            "parameters": [{"name": "address", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {
              "204": {"description": "Removed."},
              "401": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/RetryLater"},
              "503": {"$ref": "#/components/responses/RetryLater"}
            }
          }
        },
        "/v1/campaigns": {
          "get": {
            "operationId": "listCampaigns",
            "summary": "The account's campaigns with their counters.",
            "responses": {
              "200": {"description": "Campaigns.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Campaigns"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/RetryLater"},
              "503": {"$ref": "#/components/responses/RetryLater"}
            }
          },
          "post": {
            "operationId": "createCampaign",
            "summary": "Create a campaign over an imported list (hikyaku list import); content errors refuse it (422), warnings come back.",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewCampaign"}}}},
            "responses": {
              "201": {"description": "Created (scheduled).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Campaign"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/RetryLater"},
              "503": {"$ref": "#/components/responses/RetryLater"}
            }
          }
        },
        "/v1/campaigns/{id}": {
          "get": {
            "operationId": "getCampaign",
            "summary": "One campaign of the account with its counters.",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {
              "200": {"description": "The campaign.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Campaign"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/RetryLater"},
              "503": {"$ref": "#/components/responses/RetryLater"}
            }
          }
        },
        "/v1/campaigns/{id}/{action}": {
          "post": {
            "operationId": "changeCampaign",
            "summary": "pause, resume or cancel (final) a campaign; 409 when its state does not allow it.",
            "parameters": [
              {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
              {"name": "action", "in": "path", "required": true, "schema": {"enum": ["pause", "resume", "cancel"]}}
            ],
            "responses": {
              "200": {"description": "The campaign after.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Campaign"}}}},
              "409": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/RetryLater"},
              "503": {"$ref": "#/components/responses/RetryLater"}
            }
          }
        },
        "/readyz": {
              "get": {
                "operationId": "ready",
                "security": [],
                "summary": "Whether this node can accept mail now (Redis reachable).",
                "responses": {
                  "200": {"description": "Ready.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}},
                  "503": {"description": "Not ready.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}
                }
              }
            }
          },
          "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
              "IdempotencyKey": {
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "The same key (per account) within 24 h returns the first answer and stores nothing new.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255}
              }
            },
            "responses": {
              "Error": {"description": "The request was not accepted.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
              "RetryLater": {
                "description": "Try again after Retry-After seconds.",
                "headers": {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              }
            },
            "schemas": {
              "NewCampaign": {
                "type": "object", "additionalProperties": false, "required": ["name", "from", "subject", "list"],
                "properties": {
                  "name": {"type": "string"}, "from": {"type": "string"}, "from_name": {"type": "string"},
                  "subject": {"type": "string", "description": "A Mustache template; {{column}} of the list."},
                  "html": {"type": "string"}, "text": {"type": "string", "description": "Default: made from the HTML."},
                  "list": {"type": "string"}, "start_at": {"type": "string", "format": "date-time"},
                  "max_rate": {"type": "string", "examples": ["50/s"]}, "window": {"type": "string", "examples": ["09:00-20:00"]},
                  "time_zone": {"type": "string", "examples": ["Asia/Tokyo"]}, "pool": {"type": "string"}
                }
              },
              "Campaign": {
                "type": "object", "required": ["id", "name", "from", "list", "state", "rows", "cursor", "start_at", "statistics"],
                "properties": {
                  "id": {"type": "string"}, "name": {"type": "string"}, "from": {"type": "string"}, "list": {"type": "string"},
                  "state": {"enum": ["scheduled", "running", "paused", "cancelled", "sent", "failed"]}, "reason": {"type": "string"},
                  "rows": {"type": "integer"}, "cursor": {"type": "integer"}, "start_at": {"type": "string", "format": "date-time"},
                  "max_rate": {"type": "string"}, "window": {"type": "string"},
                  "statistics": {"type": "object", "additionalProperties": {"type": "integer"},
                                 "description": "queued, suppressed, failed, delivered, deferred, bounced, expired, complaint, …; <outcome>|<site> per site."},
                  "warnings": {"type": "array", "items": {"type": "object", "properties": {
                    "code": {"type": "string"}, "problem": {"type": "string"}, "fix": {"type": "string"}}}}
                }
              },
              "Campaigns": {"type": "object", "required": ["campaigns"], "properties": {"campaigns": {"type": "array", "items": {"$ref": "#/components/schemas/Campaign"}}}},
              "Error": {
                "type": "object", "required": ["error"], "additionalProperties": false,
                "properties": {"error": {"type": "object", "required": ["code", "message"], "additionalProperties": false,
                  "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}
              },
              "Status": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["ready", "unavailable"]}}},
              "Address": {
                "oneOf": [
                  {"type": "string", "format": "email", "maxLength": 320},
                  {"type": "object", "required": ["email"], "additionalProperties": false,
                   "properties": {"email": {"type": "string", "format": "email", "maxLength": 320}, "name": {"type": "string", "maxLength": 256}}}
                ]
              },
              "Addresses": {"oneOf": [{"$ref": "#/components/schemas/Address"}, {"type": "array", "items": {"$ref": "#/components/schemas/Address"}, "maxItems": 1000}]},
              "Attachment": {
                "type": "object", "required": ["filename", "content"], "additionalProperties": false,
                "properties": {
                  "filename": {"type": "string", "minLength": 1},
                  "content": {"type": "string", "contentEncoding": "base64"},
                  "content_type": {"type": "string", "examples": ["application/pdf"]},
                  "content_id": {"type": "string"}
                }
              },
              "Message": {
                "type": "object", "additionalProperties": false,
                "examples": [{"from": {"email": "news@example.com", "name": "山田太郎"}, "to": ["user@example.test"], "subject": "こんにちは", "text": "Hello", "html": "<p>Hello</p>"}],
                "properties": {
                  "from": {"$ref": "#/components/schemas/Address"},
                  "to": {"$ref": "#/components/schemas/Addresses"},
                  "cc": {"$ref": "#/components/schemas/Addresses"},
                  "bcc": {"$ref": "#/components/schemas/Addresses"},
                  "reply_to": {"$ref": "#/components/schemas/Addresses"},
                  "subject": {"type": "string"},
                  "text": {"type": "string"},
                  "html": {"type": "string"},
                  "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                  "attachments": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}},
                  "tags": {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 10},
                  "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                  "charset": {"type": "string", "enum": ["utf-8", "iso-2022-jp"]},
                  "raw": {"type": "string", "description": "A whole RFC 5322 message; needs envelope."},
                  "envelope": {"type": "object", "required": ["from", "to"], "additionalProperties": false,
                    "properties": {"from": {"type": "string"}, "to": {"type": "array", "items": {"type": "string"}, "minItems": 1}}},
                  "sandbox": {"type": "boolean", "description": "Check, render and sign, but store and deliver nothing."},
                  "unsubscribe": {"type": "boolean", "description": "Add List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 one-click) for the one recipient, before DKIM signing."}
                }
              },
              "Personalization": {
                "type": "object", "additionalProperties": false,
                "properties": {
                  "to": {"$ref": "#/components/schemas/Addresses"},
                  "cc": {"$ref": "#/components/schemas/Addresses"},
                  "bcc": {"$ref": "#/components/schemas/Addresses"},
                  "variables": {"type": "object", "additionalProperties": {"type": "string"}},
                  "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                  "metadata": {"type": "object", "additionalProperties": {"type": "string"}}
                }
              },
              "Batch": {
                "type": "object", "required": ["from", "personalizations"], "additionalProperties": false,
                "examples": [{"from": "news@example.com", "subject": "Hello {{name}}", "text": "Dear {{name}}",
                              "personalizations": [{"to": "a@example.test", "variables": {"name": "Aiko"}}, {"to": "b@example.test", "variables": {"name": "Ben"}}]}],
                "properties": {
                  "from": {"$ref": "#/components/schemas/Address"},
                  "reply_to": {"$ref": "#/components/schemas/Addresses"},
                  "subject": {"type": "string"},
                  "text": {"type": "string"},
                  "html": {"type": "string"},
                  "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                  "attachments": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}},
                  "tags": {"type": "array", "items": {"type": "string"}},
                  "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                  "charset": {"type": "string", "enum": ["utf-8", "iso-2022-jp"]},
                  "sandbox": {"type": "boolean"},
                  "unsubscribe": {"type": "boolean", "description": "One-click unsubscribe headers per message; each personalization needs exactly one recipient."},
                  "personalizations": {"type": "array", "items": {"$ref": "#/components/schemas/Personalization"}, "minItems": 1, "maxItems": 1000}
                }
              },
              "RecipientStatus": {
                "type": "object", "required": ["email", "status"], "additionalProperties": false,
                "properties": {"email": {"type": "string"}, "status": {"type": "string", "enum": ["queued", "sandbox", "suppressed"]},
                               "reason": {"type": "string", "description": "With suppressed: the list entry's reason."}}
              },
              "NewSuppression": {
                "type": "object", "required": ["address"], "additionalProperties": false,
                "properties": {"address": {"type": "string", "examples": ["gone@example.org"]},
                               "reason": {"type": "string", "enum": ["hard_bounce", "complaint", "unsubscribe", "manual"]},
                               "expires_at": {"type": "string", "examples": ["2027-01-01T00:00:00Z"]},
                               "source": {"type": "string", "maxLength": 200}}
              },
              "Suppression": {
                "type": "object", "required": ["address", "reason", "created_at", "scope"], "additionalProperties": false,
                "properties": {"address": {"type": "string"}, "reason": {"type": "string", "enum": ["hard_bounce", "complaint", "unsubscribe", "manual"]},
                               "created_at": {"type": "string"}, "expires_at": {"type": "string"}, "source": {"type": "string"},
                               "scope": {"type": "string", "enum": ["account", "global"]}}
              },
              "Suppressions": {
                "type": "object", "required": ["suppressions"], "additionalProperties": false,
                "properties": {"suppressions": {"type": "array", "items": {"$ref": "#/components/schemas/Suppression"}}, "next_cursor": {"type": "string"}}
              },
              "Accepted": {
                "type": "object", "required": ["id", "message_id", "recipients"], "additionalProperties": false,
                "properties": {
                  "id": {"type": "string", "description": "The queue id, as in events and logs."},
                  "message_id": {"type": "string"},
                  "recipients": {"type": "array", "items": {"$ref": "#/components/schemas/RecipientStatus"}}
                }
              },
              "MessageStatus": {
                "type": "object", "required": ["id", "from", "recipients"],
                "properties": {
                  "id": {"type": "string"}, "message_id": {"type": "string"}, "from": {"type": "string"}, "accepted_at": {"type": "string"},
                  "recipients": {"type": "array", "items": {"type": "object", "required": ["email", "status"],
                    "properties": {"email": {"type": "string"}, "status": {"type": "string"}, "reply": {"type": "string"},
                                   "time": {"type": "string"}, "attempt": {"type": "integer"}}}}
                }
              },
              "Event": {
                "type": "object", "required": ["event", "event_id", "time", "queue_id"],
                "description": "One event as the events stream holds it (README, \"Following what happened\").",
                "properties": {"event": {"type": "string"}, "event_id": {"type": "string"}, "time": {"type": "string"}, "queue_id": {"type": "string"},
                               "message_id": {"type": "string"}, "recipient": {"type": "string"}, "reply": {"type": "string"},
                               "bounce_class": {"type": "string", "enum": ["invalid_recipient", "mailbox_full", "message_too_large", "content_block", "policy_authentication", "ip_reputation", "throttled", "dns_failure", "tls_required", "other"]},
                               "bounce_type": {"type": "string", "enum": ["soft", "hard"]}, "async": {"type": "boolean"}}
              },
              "Events": {
                "type": "object", "required": ["events"], "additionalProperties": false,
                "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}, "next_cursor": {"type": "string"}}
              },
              "Counts": {
                "type": "object", "required": ["accepted", "delivered", "deferred", "bounced", "expired", "complaints", "suppressed", "bounced_by_class"],
                "properties": {
                  "accepted": {"type": "integer"}, "delivered": {"type": "integer"}, "deferred": {"type": "integer"},
                  "bounced": {"type": "integer"}, "expired": {"type": "integer"}, "complaints": {"type": "integer"},
                  "suppressed": {"type": "integer"}, "bounced_by_class": {"type": "object", "additionalProperties": {"type": "integer"}}
                }
              },
              "StatsRow": {
                "allOf": [{"$ref": "#/components/schemas/Counts"}, {
                  "type": "object", "required": ["hour", "sending_domain", "recipient_domain", "site"],
                  "properties": {"hour": {"type": "string"}, "sending_domain": {"type": "string"}, "recipient_domain": {"type": "string"},
                                 "site": {"type": "string", "description": "Empty unless by=site (and for accepted counts, which have no site)."}}
                }]
              },
              "Stats": {
                "type": "object", "required": ["since", "until", "rows", "totals"], "additionalProperties": false,
                "properties": {
                  "since": {"type": "string"}, "until": {"type": "string"},
                  "rows": {"type": "array", "items": {"$ref": "#/components/schemas/StatsRow"}},
                  "totals": {"allOf": [{"$ref": "#/components/schemas/Counts"}, {
                    "type": "object", "required": ["delivery_rate", "bounce_rate", "complaint_rate"],
                    "properties": {
                      "delivery_rate": {"type": ["number", "null"], "description": "delivered / (delivered + bounced + expired)"},
                      "bounce_rate": {"type": ["number", "null"], "description": "(bounced + expired) / (delivered + bounced + expired)"},
                      "complaint_rate": {"type": ["number", "null"], "description": "complaints / delivered"}
                    }
                  }]}
                }
              },
              "NewWebhook": {
            "type": "object", "required": ["url"], "additionalProperties": false,
            "properties": {"url": {"type": "string", "examples": ["https://hooks.example.com/hikyaku"]},
                           "events": {"type": "array", "items": {"type": "string", "enum": ["accepted", "delivered", "deferred", "bounced", "expired", "purged", "backoff", "paused", "resumed", "complaint", "suppressed"]}}}
          },
          "Webhook": {
            "type": "object", "required": ["id", "url", "events", "created_at"], "additionalProperties": false,
            "properties": {"id": {"type": "string"}, "url": {"type": "string"}, "events": {"type": "array", "items": {"type": "string"}},
                           "created_at": {"type": "string"}, "secret": {"type": "string"}}
          },
          "Webhooks": {
            "type": "object", "required": ["webhooks"], "additionalProperties": false,
            "properties": {"webhooks": {"type": "array", "items": {"$ref": "#/components/schemas/Webhook"}}}
          },
          "BatchAnswer": {
                "type": "object", "required": ["results"], "additionalProperties": false,
                "properties": {"results": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/Accepted"}, {"$ref": "#/components/schemas/Error"}]}}}
              }
            }
          }
        }
        """#
}
