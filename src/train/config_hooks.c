/* config_hooks.c: the hooks of a run config: parsing a JSON hook object (point, loss
 * kind, lambda, margins or calibrate), the rules on its margins, writing it back, and
 * the cfg's [hook] sections joining the list (config.c holds the rest of the config). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "config_hooks.h"
#include "nn/nn.h"
#include "train.h"

int config_add_hook(train_config *c, const config_hook *h, lir_error *err) {
    for (int i = 0; i < c->n_hooks; i++)
        if (!strcmp(c->hooks[i].point, h->point)) {
            c->hooks[i] = *h;
            return 0;
        }
    if (c->n_hooks == CONFIG_MAX_HOOKS)
        return lir_fail(err, "config key 'hooks': more than %d hooks", CONFIG_MAX_HOOKS);
    c->hooks[c->n_hooks++] = *h;
    return 0;
}

/* The numbers of a hook object, each with its bit in parse_hook's "have" mask. */
enum { H_POINT = 1, H_LAMBDA = 2, H_IN = 4, H_OUT = 8, H_IN_LO = 16, H_OUT_LO = 32, H_CAL = 64 };
static const struct {
    const char *key;
    size_t off;
    unsigned bit;
} HOOK_NUMBERS[] = {
    {"lambda", offsetof(hook_reg, lambda), H_LAMBDA},   {"m_in", offsetof(hook_reg, m_in), H_IN},
    {"m_out", offsetof(hook_reg, m_out), H_OUT},        {"m_in_lo", offsetof(hook_reg, m_in_lo), H_IN_LO},
    {"m_out_lo", offsetof(hook_reg, m_out_lo), H_OUT_LO},
};
enum { N_HOOK_NUMBERS = sizeof HOOK_NUMBERS / sizeof HOOK_NUMBERS[0] };

/* One member of a hook object into h; *have gets its bit. */
static int hook_member(config_hook *h, const cJSON *m, unsigned *have, const char *at,
                       lir_error *err) {
    const char *k = m->string;
    if (!strcmp(k, "point")) {
        if (!cJSON_IsString(m) || strlen(m->valuestring) >= sizeof h->point || !m->valuestring[0])
            return lir_fail(err, "%s.point': expected a point name", at);
        strcpy(h->point, m->valuestring);
        *have |= H_POINT;
        return 0;
    }
    if (!strcmp(k, "calibrate")) {
        if (!cJSON_IsBool(m)) return lir_fail(err, "%s.calibrate': expected true or false", at);
        h->reg.calibrate = cJSON_IsTrue(m);
        *have |= h->reg.calibrate ? H_CAL : 0;
        return 0;
    }
    if (!strcmp(k, "loss")) {
        h->reg.loss = cJSON_IsString(m) ? hook_loss_parse(m->valuestring) : -1;
        if (h->reg.loss < 0) return lir_fail(err, "%s.loss': expected energy, band or oe", at);
        return 0;
    }
    for (int i = 0; i < N_HOOK_NUMBERS; i++) {
        if (strcmp(k, HOOK_NUMBERS[i].key)) continue;
        double lo = i == 0 ? 0 : -1e9, hi = i == 0 ? 1e6 : 1e9;
        if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble) || m->valuedouble < lo ||
            m->valuedouble > hi)
            return lir_fail(err, "%s.%s': expected a number in %g..%g", at, k, lo, hi);
        *(float *)((char *)&h->reg + HOOK_NUMBERS[i].off) = (float)m->valuedouble;
        *have |= HOOK_NUMBERS[i].bit;
        return 0;
    }
    return lir_fail(err, "unknown config key %s.%s' (known: point, loss, lambda, m_in, m_out, "
                    "m_in_lo, m_out_lo, calibrate)", at, k);
}

/* One element of "hooks": {"point": name, "loss": "energy"|"band"|"oe", "lambda": x,
 * margins, "calibrate": bool}; point and lambda required; margins unless calibrate:
 * energy m_in, m_out; band also m_in_lo, m_out_lo; oe none (and no calibrate). */
int config_parse_hook(train_config *c, const cJSON *o, int i, const char *what, lir_error *err) {
    char at[160];
    snprintf(at, sizeof at, "%s: config key 'hooks[%d]", what, i);
    if (!cJSON_IsObject(o)) return lir_fail(err, "%s': expected an object", at);
    config_hook h;
    memset(&h, 0, sizeof h);
    unsigned have = 0;
    for (const cJSON *m = o->child; m; m = m->next)
        if (hook_member(&h, m, &have, at, err)) return -1;
    if (!(have & H_POINT) || !(have & H_LAMBDA))
        return lir_fail(err, "%s': needs \"point\" and \"lambda\"", at);
    unsigned margins = H_IN | H_OUT | H_IN_LO | H_OUT_LO;
    unsigned need = h.reg.loss == HOOK_LOSS_BAND ? margins : h.reg.loss == HOOK_LOSS_OE ? 0 : H_IN | H_OUT;
    if (h.reg.loss == HOOK_LOSS_OE && (have & (margins | H_CAL)))
        return lir_fail(err, "%s': loss \"oe\" has no margins (no m_in, m_out, calibrate)", at);
    if (have & margins & ~need)
        return lir_fail(err, "%s': m_in_lo and m_out_lo are margins of loss \"band\" only", at);
    if (!(have & H_CAL) && (have & need) != need)
        return lir_fail(err, "%s': needs %s or \"calibrate\": true", at,
                        need == H_IN + H_OUT ? "\"m_in\" and \"m_out\""
                                             : "\"m_in_lo\", \"m_in\", \"m_out_lo\" and \"m_out\"");
    return config_add_hook(c, &h, err);
}

int config_check_hooks(const train_config *c, lir_error *err) {
    for (int i = 0; i < c->n_hooks; i++) {
        const config_hook *h = &c->hooks[i];
        const hook_reg *r = &h->reg;
        if (r->calibrate || r->loss == HOOK_LOSS_OE) continue;
        if (!(r->m_out > r->m_in))
            return lir_fail(err, "config key 'hooks[%d]' (%s): m_out (%g) must be greater than m_in (%g)",
                            i, h->point, r->m_out, r->m_in);
        if (r->loss == HOOK_LOSS_BAND && !(r->m_out_lo < r->m_in_lo && r->m_in_lo <= r->m_in))
            return lir_fail(err, "config key 'hooks[%d]' (%s): band margins must be ordered "
                            "m_out_lo < m_in_lo <= m_in < m_out (got %g, %g, %g, %g)",
                            i, h->point, r->m_out_lo, r->m_in_lo, r->m_in, r->m_out);
    }
    return 0;
}

cJSON *config_hook_json(const config_hook *h, int name_loss) {
    cJSON *j = cJSON_CreateObject();
    const hook_reg *r = &h->reg;
    cJSON_AddStringToObject(j, "point", h->point);
    /* the keys its loss kind takes (energy, the default, unnamed in configs: they hash as
     * before the kinds existed) */
    if (name_loss || r->loss != HOOK_LOSS_ENERGY)
        cJSON_AddStringToObject(j, "loss", hook_loss_name(r->loss));
    cJSON_AddNumberToObject(j, "lambda", config_float(r->lambda));
    if (r->loss == HOOK_LOSS_BAND) {
        cJSON_AddNumberToObject(j, "m_in_lo", config_float(r->m_in_lo));
        cJSON_AddNumberToObject(j, "m_out_lo", config_float(r->m_out_lo));
    }
    if (r->loss != HOOK_LOSS_OE) {
        cJSON_AddNumberToObject(j, "m_in", config_float(r->m_in));
        cJSON_AddNumberToObject(j, "m_out", config_float(r->m_out));
        cJSON_AddBoolToObject(j, "calibrate", r->calibrate);
    }
    return j;
}

/* ---- the cfg's [hook] sections ------------------------------------------------------ */

int config_add_cfg_hooks(train_config *c, const cfg_file *cfg, lir_error *err) {
    /* a [hook] without point= observes the previous layer's output, which only the built
     * network names: build it once, batch 1, inference, and read its hooks */
    net_options probe = {1, 0, 0, 1};
    net *n = net_build(cfg, &probe, err);
    if (!n) return -1;
    int rc = 0;
    for (int k = 0; k < n->n_hooks && !rc; k++) {
        const hook_reg *r = &n->hooks[k].reg;
        const char *name = n->points[n->hooks[k].point].name;
        int have = 0;
        for (int i = 0; i < c->n_hooks; i++) have |= !strcmp(c->hooks[i].point, name);
        if (have || (r->lambda == 0 && !r->calibrate)) continue;
        config_hook h = {.reg = *r};
        snprintf(h.point, sizeof h.point, "%s", name);
        rc = config_add_hook(c, &h, err);
    }
    net_free(n);
    return rc;
}
