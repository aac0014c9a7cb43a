/* json.c: strict JSON parsing for the files lir reads back (run configs, the ID fit of
 * `lir eval`): one value and nothing after it, no NUL escapes, no key twice. */
#include "base.h"

#include <cjson/cJSON.h>
#include <string.h>

/* Offset of the first "\u0000" escape inside a JSON string (cJSON would cut the
 * string there), or -1. */
static long json_nul_escape(const char *text) {
    int in = 0;
    for (const char *p = text; *p; p++) {
        if (!in) {
            in = *p == '"';
        } else if (*p == '"') {
            in = 0;
        } else if (*p == '\\') {
            if (p[1] == 'u' && !strncmp(p + 2, "0000", 4)) return (long)(p - text);
            if (p[1]) p++;
        }
    }
    return -1;
}

/* The second of two members of one object with the same name (at any depth), or NULL. */
static const cJSON *json_duplicate(const cJSON *o) {
    for (const cJSON *a = o->child; a; a = a->next) {
        if (cJSON_IsObject(o))
            for (const cJSON *b = a->next; b; b = b->next)
                if (!strcmp(a->string, b->string)) return b;
        const cJSON *d = a->child ? json_duplicate(a) : NULL;
        if (d) return d;
    }
    return NULL;
}

cJSON *json_parse_strict(const char *text, const char *what, const char *key_noun,
                         lir_error *err) {
    long nul = json_nul_escape(text);
    if (nul >= 0) {
        lir_fail(err, "%s: byte %ld: \\u0000 in a string (a %s string cannot hold NUL)", what,
                 nul, key_noun);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= text ? (long)(at - text) : -1;
        lir_fail(err, "%s: not valid JSON (near byte %ld)", what, off);
        return NULL;
    }
    end += strspn(end, " \t\r\n");
    const cJSON *dup = json_duplicate(root);
    if (*end || dup) {
        if (*end)
            lir_fail(err, "%s: byte %ld: trailing data after the JSON value", what,
                     (long)(end - text));
        else
            lir_fail(err, "%s: %s key '%s' given twice", what, key_noun, dup->string);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}
