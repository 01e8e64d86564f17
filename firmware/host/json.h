/* json.h — a small JSON reader for the spec-test driver (host only). */
#ifndef JSON_H
#define JSON_H
#include <stddef.h>
typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;
typedef struct jnode {
    jtype t;
    char *s;                 /* string value, or key text in an object member */
    double num;
    struct jnode *kid, *next;/* first child, next sibling */
    char *key;
} jnode;
jnode *json_parse(const char *text);          /* NULL on error */
void json_free(jnode *n);
jnode *json_get(const jnode *obj, const char *key);
const char *json_str(const jnode *obj, const char *key);  /* NULL if absent */
#endif
