// Generated from command-api's OpenAPI document (GET /openapi.json) by
// scripts/api-types.mjs: do not edit; run `npm run api:types -- <command-api URL> <query-api URL>`.

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness. */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me/followed-tags": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Replaces the set of tags the caller follows. */
        put: operations["follow_tags"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics. */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This OpenAPI document. */
        get: operations["openapi_json"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/projects/propose": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Proposes a project with its problem and solution threads, atomically. */
        post: operations["propose"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/projects/{project_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Changes a project's name or tagline; proposer only. */
        patch: operations["change"];
        trace?: never;
    };
    "/projects/{project_id}/hidden": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Hides a project from the caller's own listings, or shows it again. */
        put: operations["hide"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/projects/{project_id}/tags": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Adds and removes tags; proposer only. */
        put: operations["change_tags"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/projects/{project_id}/threads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Starts a thread (or a reply) on a project. */
        post: operations["start_thread"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness. */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/threads/{thread_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Withdraws a thread; its author or a moderator. It leaves every listing and
         *     count, and its votes leave its project's score.
         */
        delete: operations["withdraw"];
        options?: never;
        head?: never;
        /** Edits a thread's message; author only. The thread goes back to moderation. */
        patch: operations["edit_thread"];
        trace?: never;
    };
    "/threads/{thread_id}/moderation": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A moderator's decision, overriding the automatic one. */
        post: operations["moderate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/threads/{thread_id}/vote": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Sets or withdraws the caller's vote. */
        put: operations["vote"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description At least one of `project_name` (a new name: free, ignoring case, with the rules of a proposal) and `tagline` (not `null`).
         * @example {
         *       "project_name": "Popee the Clown",
         *       "tagline": "an apprentice clown, still"
         *     }
         */
        ChangeProjectRequest: {
            project_name?: components["schemas"]["ProjectName"];
            tagline?: components["schemas"]["Tagline"];
        } & ({
            project_name: string;
        } | {
            tagline: string;
        });
        /**
         * @description At least one of `add` and `remove` (not `null`); the project then has at most 10 tags.
         * @example {
         *       "add": [
         *         "juggling"
         *       ],
         *       "remove": [
         *         "circus"
         *       ]
         *     }
         */
        ChangeTagsRequest: {
            /** @description Tags to add; one also in `remove` is not added. */
            add?: components["schemas"]["Tag"][] | null;
            /** @description Tags to remove. */
            remove?: components["schemas"]["Tag"][] | null;
        } & ({
            add: unknown[];
        } | {
            remove: unknown[];
        });
        /** @description Opaque: give it to the query API as the `Consistency-Token` header to read this write. */
        ConsistencyToken: string;
        /**
         * @description A moderator's decision.
         * @enum {string}
         */
        Decision: "approved" | "rejected";
        /**
         * @description A vote: `none` withdraws it (no vote).
         * @enum {string}
         */
        Direction: "up" | "down" | "none";
        /**
         * @description The body of `PATCH /threads/{thread_id}`.
         * @example {
         *       "message": "Try juggling, with three balls."
         *     }
         */
        EditThreadRequest: {
            message: components["schemas"]["Message"];
        };
        /** @description One bad field, query parameter or header. */
        FieldError: {
            /** @description The field (e.g. `tags[2]`), query parameter (e.g. `tag[1]`) or header (`Idempotency-Key`). */
            field: string;
            message: string;
        };
        /**
         * @description The body of `PUT /me/followed-tags`: the whole set.
         * @example {
         *       "tags": [
         *         "clown",
         *         "circus"
         *       ]
         *     }
         */
        FollowTagsRequest: {
            /** @description At most 50 once de-duplicated (after normalising); `[]` follows nothing. */
            tags: components["schemas"]["Tag"][];
        };
        /** @description Whether the caller hides the project now. */
        HiddenNow: {
            consistency_token: components["schemas"]["ConsistencyToken"];
            hidden: boolean;
            /** Format: uuid */
            project_id: string;
        };
        /**
         * @description The body of `PUT /projects/{project_id}/hidden`.
         * @example {
         *       "hidden": true
         *     }
         */
        HideRequest: {
            /** @description `true` hides the project from the caller's listings; `false` shows it again. */
            hidden: boolean;
        };
        /** @description A message: 1–10000 characters once normalised (NFC, `\r\n` and `\r` become `\n`, the ends trimmed of whitespace); no control characters but tab and newline, no bidirectional controls; at least one visible character. */
        Message: string;
        /**
         * @description The body of `POST /threads/{thread_id}/moderation` (moderators only).
         * @example {
         *       "status": "rejected",
         *       "reason": "off topic"
         *     }
         */
        ModerateRequest: {
            /** @description At most 1,000 characters once trimmed; blank means none. */
            reason?: string | null;
            status: components["schemas"]["Decision"];
        };
        /** @description The moderation decision was stored. */
        Moderated: {
            consistency_token: components["schemas"]["ConsistencyToken"];
            status: components["schemas"]["Decision"];
            /** Format: uuid */
            thread_id: string;
        };
        /** @description An error, as `application/problem+json`. */
        Problem: {
            detail: string;
            /** @description Every bad field (validation errors only). */
            errors?: components["schemas"]["FieldError"][] | null;
            /** Format: int32 */
            status: number;
            title: string;
            /** @description A URI reference naming the kind of problem, e.g. `/problems/validation-error`. */
            type: string;
        };
        /** @description The project's name or tagline was changed. */
        ProjectChanged: {
            consistency_token: components["schemas"]["ConsistencyToken"];
            /** Format: uuid */
            project_id: string;
        };
        /** @description A project's name: 1–80 characters once normalised (NFKC, every run of whitespace one space, trimmed); no control or bidirectional control characters; at least one visible character. Unique among projects, ignoring case. */
        ProjectName: string;
        /**
         * @description The body of `POST /projects/propose`.
         * @example {
         *       "project_name": "Popee the Performer",
         *       "tagline": "an apprentice clown in Wolf Circus",
         *       "tags": [
         *         "clown",
         *         "circus"
         *       ],
         *       "problems": [
         *         "short temper"
         *       ],
         *       "solutions": [
         *         "play the drums"
         *       ]
         *     }
         */
        ProposeProjectRequest: {
            /**
             * @description Each becomes a PROBLEM thread. At least one; at most 50 problems and
             *     solutions together.
             */
            problems: components["schemas"]["Message"][];
            project_name: components["schemas"]["ProjectName"];
            /**
             * @description Each becomes a SOLUTION thread. At least one; at most 50 problems and
             *     solutions together.
             */
            solutions: components["schemas"]["Message"][];
            tagline: components["schemas"]["Tagline"];
            /** @description At most 10 once de-duplicated (after normalising). */
            tags?: components["schemas"]["Tag"][] | null;
        };
        /** @description A proposal was stored. */
        Proposed: {
            consistency_token: components["schemas"]["ConsistencyToken"];
            /** Format: uuid */
            project_id: string;
        };
        /**
         * @description The body of `POST /projects/{project_id}/threads`.
         * @example {
         *       "thread_type": "COMMENT",
         *       "message": "Try juggling."
         *     }
         */
        StartThreadRequest: {
            message: components["schemas"]["Message"];
            /**
             * Format: uuid
             * @description A thread of the same project, for a reply.
             */
            parent_thread_id?: string | null;
            thread_type: components["schemas"]["ThreadType"];
        };
        /** @description A tag: 1–50 characters once normalised (NFKC, every run of whitespace one space, trimmed, lower-cased); no control or bidirectional control characters; at least one visible character. */
        Tag: string;
        /** @description A tagline: 1–255 characters once normalised (NFC, every run of whitespace one space, trimmed); no control or bidirectional control characters; at least one visible character. */
        Tagline: string;
        /** @description The project's tags after the change. */
        TagsChanged: {
            consistency_token: components["schemas"]["ConsistencyToken"];
            /** Format: uuid */
            project_id: string;
            tags: components["schemas"]["Tag"][];
        };
        /** @description The tags the caller follows now. */
        TagsFollowed: {
            consistency_token: components["schemas"]["ConsistencyToken"];
            tags: components["schemas"]["Tag"][];
        };
        /**
         * @description The kind of a thread.
         * @enum {string}
         */
        ThreadType: "PROBLEM" | "SOLUTION" | "COMMENT";
        /** @description A thread was started or edited. */
        ThreadWritten: {
            consistency_token: components["schemas"]["ConsistencyToken"];
            /** Format: uuid */
            thread_id: string;
        };
        /**
         * @description The body of `PUT /threads/{thread_id}/vote`.
         * @example {
         *       "direction": "up"
         *     }
         */
        VoteRequest: {
            direction: components["schemas"]["Direction"];
        };
        /** @description The caller's vote now. */
        Voted: {
            consistency_token: components["schemas"]["ConsistencyToken"];
            direction: components["schemas"]["Direction"];
            /** Format: uuid */
            thread_id: string;
        };
        /** @description The thread was withdrawn (or already was). */
        Withdrawn: {
            consistency_token: components["schemas"]["ConsistencyToken"];
            /** @description Always `withdrawn`. */
            status: string;
            /** Format: uuid */
            thread_id: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The service is alive. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    follow_tags: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["FollowTagsRequest"];
            };
        };
        responses: {
            /** @description The tags the caller follows now. */
            200: {
                headers: {
                    /** @description The body's `consistency_token`. */
                    "Consistency-Token": components["schemas"]["ConsistencyToken"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TagsFollowed"];
                };
            };
            /** @description The request body is not a JSON object. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or bad token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's tags changed concurrently too often; try again. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is over 64 KiB. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is not `application/json`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Field rules broken, each bad field named in `errors`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many writes from this user: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus metrics (OpenMetrics text). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/openmetrics-text": unknown;
                };
            };
        };
    };
    openapi_json: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description This document. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
            /** @description Too many requests from this address: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    propose: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description 1–255 visible ASCII characters. The same key from the same user within
                 *     24 hours returns the first response again and appends nothing; while
                 *     the first request runs, a repeat is answered 409 with `Retry-After`;
                 *     the same key for another request is 422.
                 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ProposeProjectRequest"];
            };
        };
        responses: {
            /** @description Stored: the name claim, the project and its threads, all or nothing. A repeat with the same `Idempotency-Key` gets this answer again. */
            201: {
                headers: {
                    /** @description The body's `consistency_token`. */
                    "Consistency-Token": components["schemas"]["ConsistencyToken"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Proposed"];
                };
            };
            /** @description The request body is not a JSON object, or the `Idempotency-Key` header is not 1–255 visible ASCII characters. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or bad token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The name is taken (ignoring case); or a request with this `Idempotency-Key` is still in progress (`/problems/in-progress`, with `Retry-After`). */
            409: {
                headers: {
                    /** @description Seconds to wait before repeating the request (in progress only). */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is over 64 KiB. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is not `application/json`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Field rules broken, each bad field named in `errors`; or the `Idempotency-Key` was used for another request. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many writes from this user: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    change: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project; an unknown or malformed id is 404. */
                project_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ChangeProjectRequest"];
            };
        };
        responses: {
            /** @description Stored (or nothing changed): a new name is claimed and the old one is free for others at once. */
            200: {
                headers: {
                    /** @description The body's `consistency_token`. */
                    "Consistency-Token": components["schemas"]["ConsistencyToken"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProjectChanged"];
                };
            };
            /** @description The request body is not a JSON object. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or bad token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Only the proposer may change a project. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such project. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The new name is taken (ignoring case); or the project changed concurrently too often. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is over 64 KiB. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is not `application/json`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Field rules broken, each bad field named in `errors`: neither field given, or a field breaks the rules of a proposal. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many writes from this user: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    hide: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project; an unknown or malformed id is 404. */
                project_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["HideRequest"];
            };
        };
        responses: {
            /** @description The caller's choice now; repeating it changes nothing. */
            200: {
                headers: {
                    /** @description The body's `consistency_token`. */
                    "Consistency-Token": components["schemas"]["ConsistencyToken"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HiddenNow"];
                };
            };
            /** @description The request body is not a JSON object. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or bad token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such project. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's choice on this project changed concurrently too often; try again. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is over 64 KiB. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is not `application/json`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Field rules broken, each bad field named in `errors`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many writes from this user: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    change_tags: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The project; an unknown or malformed id is 404. */
                project_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ChangeTagsRequest"];
            };
        };
        responses: {
            /** @description The project's tags now. */
            200: {
                headers: {
                    /** @description The body's `consistency_token`. */
                    "Consistency-Token": components["schemas"]["ConsistencyToken"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TagsChanged"];
                };
            };
            /** @description The request body is not a JSON object. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or bad token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Only the proposer may change a project's tags. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such project. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The project changed concurrently too often; try again. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is over 64 KiB. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is not `application/json`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Field rules broken, each bad field named in `errors`: neither `add` nor `remove`, a bad tag, or more than 10 tags. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many writes from this user: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    start_thread: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description 1–255 visible ASCII characters. The same key from the same user within
                 *     24 hours returns the first response again and appends nothing; while
                 *     the first request runs, a repeat is answered 409 with `Retry-After`;
                 *     the same key for another request is 422.
                 */
                "Idempotency-Key"?: string;
            };
            path: {
                /** @description The project; an unknown or malformed id is 404. */
                project_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["StartThreadRequest"];
            };
        };
        responses: {
            /** @description Stored; the thread starts `pending` moderation. A repeat with the same `Idempotency-Key` gets this answer again. */
            201: {
                headers: {
                    /** @description The body's `consistency_token`. */
                    "Consistency-Token": components["schemas"]["ConsistencyToken"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ThreadWritten"];
                };
            };
            /** @description The request body is not a JSON object, or the `Idempotency-Key` header is not 1–255 visible ASCII characters. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or bad token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such project. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A request with this `Idempotency-Key` is still in progress (`/problems/in-progress`, with `Retry-After`); or the thread's subject changed concurrently too often. */
            409: {
                headers: {
                    /** @description Seconds to wait before repeating the request (in progress only). */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is over 64 KiB. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is not `application/json`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Field rules broken, each bad field named in `errors` (a reply's parent must be a thread of the same project); or the `Idempotency-Key` was used for another request. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many writes from this user: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description NATS is reachable. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not ready; `detail` says why. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    withdraw: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The thread; an unknown or malformed id is 404. */
                thread_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Withdrawn (withdrawing again changes nothing). */
            200: {
                headers: {
                    /** @description The body's `consistency_token`. */
                    "Consistency-Token": components["schemas"]["ConsistencyToken"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Withdrawn"];
                };
            };
            /** @description Missing or bad token. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Only the author or a moderator may withdraw a thread. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such thread. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The thread changed concurrently too often; try again. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many writes from this user: rate limited. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    edit_thread: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The thread; an unknown or malformed id is 404. */
                thread_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EditThreadRequest"];
            };
        };
        responses: {
            /** @description Stored; the thread goes back to `pending` moderation. */
            200: {
                headers: {
                    /** @description The body's `consistency_token`. */
                    "Consistency-Token": components["schemas"]["ConsistencyToken"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ThreadWritten"];
                };
            };
            /** @description The request body is not a JSON object. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or bad token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Only the author may edit a thread. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such thread. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The thread is withdrawn; or it changed concurrently too often. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is over 64 KiB. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is not `application/json`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Field rules broken, each bad field named in `errors`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many writes from this user: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    moderate: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description 1–255 visible ASCII characters. The same key from the same user within
                 *     24 hours returns the first response again and appends nothing; while
                 *     the first request runs, a repeat is answered 409 with `Retry-After`;
                 *     the same key for another request is 422.
                 */
                "Idempotency-Key"?: string;
            };
            path: {
                /** @description The thread; an unknown or malformed id is 404. */
                thread_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ModerateRequest"];
            };
        };
        responses: {
            /** @description The decision was stored. A repeat with the same `Idempotency-Key` gets this answer again. */
            200: {
                headers: {
                    /** @description The body's `consistency_token`. */
                    "Consistency-Token": components["schemas"]["ConsistencyToken"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Moderated"];
                };
            };
            /** @description The request body is not a JSON object, or the `Idempotency-Key` header is not 1–255 visible ASCII characters. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or bad token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Only moderators may moderate. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such thread. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A request with this `Idempotency-Key` is still in progress (`/problems/in-progress`, with `Retry-After`); or the thread changed concurrently too often. */
            409: {
                headers: {
                    /** @description Seconds to wait before repeating the request (in progress only). */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is over 64 KiB. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is not `application/json`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Field rules broken, each bad field named in `errors`; or the `Idempotency-Key` was used for another request. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many writes from this user: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    vote: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The thread; an unknown or malformed id is 404. */
                thread_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["VoteRequest"];
            };
        };
        responses: {
            /** @description The caller's vote now; repeating a vote changes nothing. */
            200: {
                headers: {
                    /** @description The body's `consistency_token`. */
                    "Consistency-Token": components["schemas"]["ConsistencyToken"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Voted"];
                };
            };
            /** @description The request body is not a JSON object. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or bad token. */
            401: {
                headers: {
                    /** @description `Bearer`. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such thread. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's vote on this thread changed concurrently too often; try again. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is over 64 KiB. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request body is not `application/json`. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Field rules broken, each bad field named in `errors`. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many writes from this user: rate limited. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency is unavailable, the request took too long, or too many requests are in flight. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
