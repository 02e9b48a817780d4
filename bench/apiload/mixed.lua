-- wrk script: a mixed read load on the API, as dashboards and scripts make
-- it. The token comes from the TOKEN environment variable. Paths are picked
-- by weight; some carry a random offset or decky so that not every request
-- is one the API's short response cache already holds.
local token = os.getenv("TOKEN")
local routes = {
  {3, function() return "/api/v1/logs?limit=50" end},
  {2, function() return "/api/v1/logs?limit=50&offset=" .. math.random(0, 20000) end},
  {2, function() return "/api/v1/logs?limit=50&search=service:ssh" end},
  {1, function() return "/api/v1/logs?limit=50&search=event:auth%20decky:decky-" .. string.format("%02d", math.random(1, 10)) end},
  {1, function() return "/api/v1/logs?limit=50&search=root" end},
  {3, function() return "/api/v1/stats" end},
  {2, function() return "/api/v1/attackers?limit=50" end},
  {1, function() return "/api/v1/attackers?limit=50&sort_by=active&offset=" .. math.random(0, 400) end},
  {1, function() return "/api/v1/logs/histogram?interval_minutes=60" end},
  {1, function() return "/api/v1/bounty?limit=50" end},
}
local total = 0
for _, r in ipairs(routes) do total = total + r[1] end

function setup(thread)
  thread:set("id", math.random(1, 1e9))
end

function init(args)
  math.randomseed(os.time() + id)
end

request = function()
  local pick = math.random(1, total)
  for _, r in ipairs(routes) do
    pick = pick - r[1]
    if pick <= 0 then
      return wrk.format("GET", r[2](), {["Authorization"] = "Bearer " .. token})
    end
  end
end

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if errors <= 5 then io.stderr:write("status " .. status .. ": " .. body:sub(1, 200) .. "\n") end
  end
end
