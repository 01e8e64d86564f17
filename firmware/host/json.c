/* json.c — recursive-descent JSON reader (strings decoded to UTF-8). */
#include "json.h"
#include <stdlib.h>
#include <string.h>

typedef struct { const char *p; } jp;

static void ws(jp *j) { while (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t') j->p++; }

static char *str(jp *j)
{
    size_t cap = 16, n = 0;
    char *o = malloc(cap);
    j->p++;
    while (*j->p && *j->p != '"') {
        unsigned cp = (unsigned char)*j->p++;
        if (cp == '\\') {
            char e = *j->p++;
            switch (e) {
            case 'n': cp = '\n'; break; case 't': cp = '\t'; break; case 'r': cp = '\r'; break;
            case 'b': cp = '\b'; break; case 'f': cp = '\f'; break;
            case 'u': {
                char h[5] = { 0 }; memcpy(h, j->p, 4); j->p += 4;
                cp = (unsigned)strtoul(h, NULL, 16);
                if (cp >= 0xD800 && cp < 0xDC00 && j->p[0] == '\\' && j->p[1] == 'u') {
                    memcpy(h, j->p + 2, 4); j->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)strtoul(h, NULL, 16) - 0xDC00);
                }
                break;
            }
            default: cp = (unsigned char)e;
            }
            if (e == 'u') {
                char buf[4]; int k = 0;
                if (cp < 0x80) buf[k++] = (char)cp;
                else if (cp < 0x800) { buf[k++] = (char)(0xC0 | cp >> 6); buf[k++] = (char)(0x80 | (cp & 63)); }
                else if (cp < 0x10000) { buf[k++] = (char)(0xE0 | cp >> 12); buf[k++] = (char)(0x80 | ((cp >> 6) & 63)); buf[k++] = (char)(0x80 | (cp & 63)); }
                else { buf[k++] = (char)(0xF0 | cp >> 18); buf[k++] = (char)(0x80 | ((cp >> 12) & 63)); buf[k++] = (char)(0x80 | ((cp >> 6) & 63)); buf[k++] = (char)(0x80 | (cp & 63)); }
                for (int i = 0; i < k; i++) { if (n + 2 > cap) o = realloc(o, cap *= 2); o[n++] = buf[i]; }
                continue;
            }
        }
        if (n + 2 > cap) o = realloc(o, cap *= 2);
        o[n++] = (char)cp;
    }
    if (*j->p == '"') j->p++;
    o[n] = 0;
    return o;
}

static jnode *val(jp *j)
{
    ws(j);
    jnode *n = calloc(1, sizeof *n);
    char c = *j->p;
    if (c == '{' || c == '[') {
        n->t = c == '{' ? J_OBJ : J_ARR;
        j->p++;
        jnode **tail = &n->kid;
        for (;;) {
            ws(j);
            if (*j->p == (c == '{' ? '}' : ']')) { j->p++; break; }
            char *key = NULL;
            if (c == '{') {
                if (*j->p != '"') goto bad;
                key = str(j); ws(j);
                if (*j->p++ != ':') { free(key); goto bad; }
            }
            jnode *k = val(j);
            if (!k) { free(key); goto bad; }
            k->key = key;
            *tail = k; tail = &k->next;
            ws(j);
            if (*j->p == ',') j->p++;
        }
    } else if (c == '"') { n->t = J_STR; n->s = str(j); }
    else if (!strncmp(j->p, "true", 4)) { n->t = J_BOOL; n->num = 1; j->p += 4; }
    else if (!strncmp(j->p, "false", 5)) { n->t = J_BOOL; j->p += 5; }
    else if (!strncmp(j->p, "null", 4)) { n->t = J_NULL; j->p += 4; }
    else { char *e; n->t = J_NUM; n->num = strtod(j->p, &e); if (e == j->p) goto bad; j->p = e; }
    return n;
bad:
    json_free(n);
    return NULL;
}

jnode *json_parse(const char *text) { jp j = { text }; return val(&j); }

void json_free(jnode *n)
{
    while (n) {
        jnode *next = n->next;
        json_free(n->kid);
        free(n->s); free(n->key); free(n);
        n = next;
    }
}

jnode *json_get(const jnode *o, const char *key)
{
    if (!o || o->t != J_OBJ) return NULL;
    for (jnode *k = o->kid; k; k = k->next) if (k->key && !strcmp(k->key, key)) return k;
    return NULL;
}

const char *json_str(const jnode *o, const char *key)
{
    jnode *n = json_get(o, key);
    return n && n->t == J_STR ? n->s : NULL;
}
