// Everything a function author needs.
#pragma once

#include "ofn/cloud_event.h"
#include "ofn/context.h"
#include "ofn/framework.h"
#include "ofn/function.h"
#include "ofn/function_context.h"
#include "ofn/http_request.h"
#include "ofn/http_response.h"
#include "ofn/plugin.h"
#include "ofn/status.h"
