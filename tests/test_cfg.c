/* test_cfg.c: the cfg grammar (comments, whitespace, line numbers, typed getters)
 * and the network builder's errors, each naming the cfg line. */
#include <string.h>

#include "check.h"
#include "nn/nn.h"

static const char *HEAD = "[net]\nbatch=2\nwidth=8\nheight=8\nchannels=3\n";

/* Builds HEAD + body; returns 0 if it built, else checks the message. */
static void expect_error(const char *body, const char *want1, const char *want2) {
    char text[4096];
    snprintf(text, sizeof text, "%s%s", HEAD, body);
    lir_error err = {{0}};
    cfg_file *c = cfg_parse_string(text, "t.cfg", &err);
    net *n = NULL;
    if (c) {
        net_options opt = {0, 0, 1, 1};
        n = net_build(c, &opt, &err);
    }
    CHECK(!n, "expected an error for:\n%s", body);
    CHECK(strstr(err.msg, want1) && (!want2 || strstr(err.msg, want2)),
          "message '%s' lacks '%s' / '%s'", err.msg, want1, want2 ? want2 : "");
    net_free(n);
    cfg_free(c);
}

int main(void) {
    lir_error err = {{0}};
    const char *text = "# a comment\n"
                       "; another\n"
                       "\n"
                       "[net]\n"
                       "  batch = 4 \n"
                       "\twidth=16\r\n"
                       "height=1 6\n"
                       "[convolutional]\n"
                       "filters=8\n"
                       "activation = leaky\n";
    cfg_file *c = cfg_parse_string(text, "a.cfg", &err);
    CHECK(c != NULL, "parse: %s", err.msg);
    if (c) {
        CHECK(c->n_sections == 2, "two sections");
        CHECK(!strcmp(c->sections[0].type, "net") && c->sections[0].line == 4, "[net] at line 4");
        CHECK(c->sections[0].n_options == 3, "three [net] options");
        CHECK(!strcmp(c->sections[0].options[0].key, "batch") &&
                  !strcmp(c->sections[0].options[0].value, "4") &&
                  c->sections[0].options[0].line == 5,
              "whitespace stripped, line kept");
        int v = 0;
        CHECK(cfg_get_int(c, &c->sections[0], "height", 0, &v, &err) == 0 && v == 16,
              "inner whitespace stripped like Darknet (height=%d)", v);
        CHECK(cfg_get_int(c, &c->sections[0], "channels", 3, &v, &err) == 0 && v == 3,
              "default value");
        CHECK(cfg_check_unused(c, &c->sections[0], &err) == -1 &&
                  strstr(err.msg, "a.cfg:5: unknown key 'batch'"),
              "unused key reported: %s", err.msg);
        float f = 0;
        CHECK(!strcmp(cfg_get_str(&c->sections[1], "activation", "x"), "leaky"), "string value");
        CHECK(cfg_get_float(c, &c->sections[1], "filters", 0, &f, &err) == 0 && f == 8, "float");
        CHECK(cfg_line_of(&c->sections[1], "filters") == 9, "line of a key");
        cfg_free(c);
    }
    CHECK(!cfg_parse_string("[net]\nbatch\n", "b.cfg", &err) && strstr(err.msg, "b.cfg:2:") &&
              strstr(err.msg, "key=value"),
          "line without '=': %s", err.msg);
    CHECK(!cfg_parse_string("batch=1\n[net]\n", "b.cfg", &err) && strstr(err.msg, "b.cfg:1:"),
          "option before a section: %s", err.msg);
    CHECK(!cfg_parse_string("[net\n", "b.cfg", &err) && strstr(err.msg, "b.cfg:1:"),
          "bad header: %s", err.msg);
    CHECK(!cfg_parse_string("# only\n\n", "b.cfg", &err) && strstr(err.msg, "no sections"),
          "empty cfg: %s", err.msg);
    CHECK(!cfg_parse_string("[net]\nbatch=1\nbatch=2\n", "b.cfg", &err) &&
              strstr(err.msg, "b.cfg:3:"),
          "duplicate key: %s", err.msg);
    CHECK(!cfg_parse_file("/nonexistent/x.cfg", &err) && strstr(err.msg, "/nonexistent/x.cfg"),
          "missing file: %s", err.msg);

    /* a correct small cfg builds (HEAD is 5 lines; sections start at line 6) */
    c = cfg_parse_string("[net]\nbatch=2\nwidth=8\nheight=8\nchannels=3\n"
                         "[convolutional]\nfilters=4\nsize=3\npad=1\nactivation=relu\n",
                         "ok.cfg", &err);
    net_options opt = {0, 0, 0, 1};
    net *n = c ? net_build(c, &opt, &err) : NULL;
    CHECK(n != NULL, "small cfg builds: %s", err.msg);
    if (n) CHECK(n->layers[0].oc == 4 && n->layers[0].oh == 8, "pad=1 keeps 8x8");
    net_free(n);
    cfg_free(c);

    expect_error("[dropout]\nprobability=.5\n", "t.cfg:6:", "unknown section [dropout]");
    expect_error("[convolutional]\nfilters=4\nsize=3\ngroups=2\nactivation=relu\n", "t.cfg:9:",
                 "unknown key 'groups'");
    expect_error("[convolutional]\nfilters=4x\nactivation=relu\n", "t.cfg:7:", "integer");
    expect_error("[convolutional]\nfilters=4\n", "t.cfg:6:", "activation");
    expect_error("[convolutional]\nfilters=4\nactivation=tanh\n", "t.cfg:8:", "tanh");
    expect_error("[convolutional]\nfilters=4\nactivation=relu\n[shortcut]\nfrom=-5\n", "t.cfg:10:",
                 "does not exist");
    expect_error("[convolutional]\nfilters=4\nactivation=relu\n[shortcut]\nactivation=relu\n",
                 "t.cfg:9:", "from");
    expect_error("[convolutional]\nfilters=4\nactivation=relu\n"
                 "[convolutional]\nfilters=6\nactivation=relu\n[shortcut]\nfrom=-2\n",
                 "t.cfg:13:", "expected equal shapes");
    expect_error("[convolutional]\nfilters=4\nactivation=relu\n"
                 "[maxpool]\nsize=2\nstride=2\n[route]\nlayers=-1,-2\n",
                 "t.cfg:13:", "same height and width");
    expect_error("[convolutional]\nfilters=4\nactivation=relu\n[route]\nlayers=3\n", "t.cfg:10:",
                 "does not exist");
    expect_error("[softmax]\ngroups=2\n", "t.cfg:7:", "groups=1");
    expect_error("[softmax]\n[connected]\noutput=2\nactivation=linear\n", "t.cfg:6:",
                 "last layer");
    expect_error("[hook]\nlambda=1\n[avgpool]\n", "t.cfg:6:", "point=");
    expect_error("[convolutional]\nfilters=4\nactivation=relu\n[hook]\npoint=nope\n", "t.cfg:10:",
                 "nope");
    expect_error("[convolutional]\nname=a\nfilters=4\nactivation=relu\n"
                 "[convolutional]\nname=a\nfilters=4\nactivation=relu\n",
                 "t.cfg:10:", "used twice");
    expect_error("[maxpool]\nsize=16\npadding=0\n", "t.cfg:6:", "fits");
    expect_error("[avgpool]\n[net]\nbatch=1\n", "t.cfg:7:", "only be the first");
    /* bad [net] */
    c = cfg_parse_string("[net]\nbatch=2\nwidth=8\nheight=8\nchannels=3\nangle=7\n"
                         "[avgpool]\n",
                         "n.cfg", &err);
    n = c ? net_build(c, &opt, &err) : NULL;
    CHECK(!n && strstr(err.msg, "n.cfg:6: unknown key 'angle' in [net]"), "[net] key: %s",
          err.msg);
    cfg_free(c);
    c = cfg_parse_string("[avgpool]\n", "n.cfg", &err);
    n = c ? net_build(c, &opt, &err) : NULL;
    CHECK(!n && strstr(err.msg, "n.cfg:1:") && strstr(err.msg, "[net]"), "[net] first: %s",
          err.msg);
    cfg_free(c);
    /* the training keys are lir train's (config_from_cfg): the builder accepts them */
    c = cfg_parse_string("[net]\nbatch=2\nwidth=8\nheight=8\nchannels=3\npolicy=steps\n"
                         "steps=10,20\nscales=.1\nlearning_rate=0.1\npower=4\n[avgpool]\n",
                         "n.cfg", &err);
    n = c ? net_build(c, &opt, &err) : NULL;
    CHECK(n != NULL, "[net] training keys accepted by the builder: %s", n ? "" : err.msg);
    net_free(n);
    cfg_free(c);
    return check_done("test_cfg");
}
