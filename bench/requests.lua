-- wrk script: cycle through "<path>\t<token>" lines (REQUESTS_FILE), one request each.
local requests = {}
local counter = 0

init = function(args)
  local f = assert(io.open(os.getenv("REQUESTS_FILE"), "r"))
  for line in f:lines() do
    local path, token = line:match("^(%S+)\t(%S+)$")
    if path then
      requests[#requests + 1] = wrk.format("GET", path,
        { ["Authorization"] = "Zoho-oauthtoken " .. token })
    end
  end
  f:close()
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
  counter = math.random(#requests)
end

request = function()
  counter = counter + 1
  if counter > #requests then counter = 1 end
  return requests[counter]
end
